"""The Region tab in Chromium at 1366 x 768 (offline, replay server, tiny-random): a 10.24 x 7.68 km region
around the clicked point, on the map over the real mosaic with the opacity slider, the GeoTIFF to download."""

from __future__ import annotations

import pytest

from app.map_picker import DEFAULT_LEAFLET_URL
from tests.support.app_harness import (
    ARTIFACTS,
    LOOP_VIEWPORT,
    chromium_page,
    click_map_at,
    running_app,
    serve_offline,
    set_field,
    set_number,
    start_browser_replay,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON = 24.8, -11.43
TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def page(test_rasters, tmp_path_factory):
    root = tmp_path_factory.mktemp("app-region-e2e")
    server, settings = start_browser_replay(test_rasters, root)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with (
            running_app(settings, "tiny-random", root / "outputs") as app,
            chromium_page(LOOP_VIEWPORT) as browser_page,
        ):
            serve_offline(browser_page, DEFAULT_LEAFLET_URL)
            browser_page.goto(app.url)
            browser_page.wait_for_selector('.eco-map[data-ready="1"]', timeout=30_000)
            yield browser_page
    finally:
        server.stop()


def test_a_region_is_shown_on_the_map_over_the_real_mosaic_with_the_fader(page):
    set_field(page, "#month", "2020-02")
    click_map_at(page, LAT, LON)
    page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Settings", exact=True).click()
    set_number(page, "#steps", 2)
    page.get_by_role("tab", name="Region", exact=True).click()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "app_region_tab.png"))
    assert page.evaluate("document.documentElement.scrollHeight") <= LOOP_VIEWPORT[1]
    page.click("#region")
    page.wait_for_selector("#region-image img", timeout=TIMEOUT_MS)
    summary = page.locator("#region-summary").inner_text()
    assert "1024 x 768 px at 10 m, EPSG:32629, 6 tiles (metaearth)" in summary
    assert summary.startswith("AI-generated · noise (tiny test model)")
    # the real mosaic and the generated region lie on the region's box; the fader blends them
    page.wait_for_selector(".eco-map img.eco-ai-overlay", timeout=TIMEOUT_MS)
    assert page.locator(".eco-map img.leaflet-image-layer").count() == 2
    assert "10.24 x 7.68 km region" in page.locator(".eco-blend-label").inner_text()
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "app_region.png"))
    page.locator(".eco-blend input[type=range]").fill("40")
    opacity = page.evaluate("getComputedStyle(document.querySelector('.eco-map img.eco-ai-overlay')).opacity")
    assert float(opacity) == pytest.approx(0.4, abs=0.01)
    page.screenshot(path=str(ARTIFACTS / "app_region_fader.png"))
    # the GeoTIFF is offered for download
    with page.expect_download(timeout=30_000) as download:
        page.click("#region-file")
    assert download.value.suggested_filename.endswith(".tif")
