"""The Climate tab in Chromium at 1366 x 768, offline (replay server, tiny-random): it fits the screen and its
chart marks the picked scenario on the month (issue 25: the tab scrolled to 1,245 px and showed no scenario).
Screenshots go to test-artifacts/."""

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
    start_browser_replay,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

TIMEOUT_MS = 120_000
CHART = "#climate-plot img"
CHART_CHANGED = (
    "(before) => { const img = document.querySelector('#climate-plot img'); return img && img.src !== before; }"
)


def test_the_climate_tab_fits_the_screen_and_its_chart_follows_the_scenario(test_rasters, tmp_path):
    server, settings = start_browser_replay(test_rasters, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with running_app(settings, "tiny-random", tmp_path / "outputs") as app, chromium_page(LOOP_VIEWPORT) as page:
            serve_offline(page, DEFAULT_LEAFLET_URL)
            page.goto(app.url)
            set_field(page, "#month", "2020-02")
            click_map_at(page, 24.8, -11.4)
            page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
            page.get_by_role("tab", name="Climate", exact=True).click()
            page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
            today_chart = page.locator(CHART).get_attribute("src")
            page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
            # the chart is drawn again with the scenario's star on the month
            page.wait_for_function(CHART_CHANGED, arg=today_chart, timeout=TIMEOUT_MS)
            scenario_chart = page.locator(CHART).get_attribute("src")
            page.wait_for_timeout(500)
            assert page.evaluate("document.documentElement.scrollHeight") <= LOOP_VIEWPORT[1]
            box = page.locator(CHART).bounding_box()
            assert box["y"] + box["height"] <= LOOP_VIEWPORT[1] and box["height"] > 200
            for selector in ("#temp", "#precip", "#solar", "#cloud"):
                inner = page.locator(selector).bounding_box()
                assert inner["y"] + inner["height"] <= LOOP_VIEWPORT[1], selector
            page.screenshot(path=str(ARTIFACTS / "app_climate_scenario.png"))
            # back to "Today": drawn again (the star then sits on today's value)
            page.locator("#presets").get_by_text("Today", exact=True).click()
            page.wait_for_function(CHART_CHANGED, arg=scenario_chart, timeout=TIMEOUT_MS)
            assert page.locator(CHART).get_attribute("src") != scenario_chart
    finally:
        server.stop()
