"""The Region tab in Chromium at 1366 x 768 (offline, replay server, tiny-random): a 10.24 x 7.68 km region
around the clicked point, on the map over the real mosaic with the opacity slider, the GeoTIFF to download."""

from __future__ import annotations

import pytest

from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT, set_number

LAT, LON = 24.8, -11.43
OBSERVE = (LAT, LON, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 240_000


def test_a_region_is_shown_on_the_map_over_the_real_mosaic_with_the_fader(app_page):
    app_page.get_by_role("tab", name="Settings", exact=True).click()
    set_number(app_page, "#steps", 2)
    app_page.get_by_role("tab", name="Region", exact=True).click()
    app_page.wait_for_timeout(500)
    app_page.screenshot(path=str(ARTIFACTS / "app_region_tab.png"))
    assert app_page.evaluate("document.documentElement.scrollHeight") <= LOOP_VIEWPORT[1]
    app_page.click("#region")
    app_page.wait_for_selector("#region-image img", timeout=TIMEOUT_MS)
    summary = app_page.locator("#region-summary").inner_text()
    assert "1024 x 768 px at 10 m, EPSG:32629, 6 tiles (metaearth)" in summary
    assert summary.startswith("AI-generated · noise (tiny test model)")
    # the real mosaic and the generated region lie on the region's box; the fader blends them
    app_page.wait_for_selector(".eco-map img.eco-ai-overlay", timeout=TIMEOUT_MS)
    assert app_page.locator(".eco-map img.leaflet-image-layer").count() == 2
    assert "10.24 x 7.68 km region" in app_page.locator(".eco-blend-label").inner_text()
    app_page.wait_for_timeout(800)
    app_page.screenshot(path=str(ARTIFACTS / "app_region.png"))
    app_page.locator(".eco-blend input[type=range]").fill("40")
    opacity = app_page.evaluate("getComputedStyle(document.querySelector('.eco-map img.eco-ai-overlay')).opacity")
    assert float(opacity) == pytest.approx(0.4, abs=0.01)
    app_page.screenshot(path=str(ARTIFACTS / "app_region_fader.png"))
    # the GeoTIFF is offered for download
    with app_page.expect_download(timeout=30_000) as download:
        app_page.click("#region-file")
    assert download.value.suggested_filename.endswith(".tif")
