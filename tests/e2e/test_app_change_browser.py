"""Issue 20 in Debian's Chromium at 1366 x 768, offline (replay server, `tiny-random`): Generate in mode Edit with
its options shown, then the Change tab: N seeds, the change and spread maps, the agreement sentence and the mean
change drawn on the map. Screenshots: test-artifacts/app_edit_mode.png, app_change.png."""

from __future__ import annotations

import pytest

from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT, observed_app_page, set_number

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON = 24.8, -11.4
TIMEOUT_MS = 180_000


def test_edit_mode_and_the_change_view(test_rasters, tmp_path):
    with observed_app_page(test_rasters, tmp_path, LAT, LON, "2020-02", TIMEOUT_MS) as page:
        page.get_by_role("tab", name="Settings", exact=True).click()
        set_number(page, "#steps", 2)
        page.get_by_role("tab", name="Today vs scenario", exact=True).click()
        assert not page.locator("#edit-options").is_visible()
        page.locator("#mode").get_by_text("Edit", exact=True).click()
        page.wait_for_selector("#edit-options", state="visible", timeout=10_000)
        page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
        page.click("#generate")
        page.wait_for_selector("#generated-image img", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelector('#metrics')?.innerText.includes('Edited the real Sentinel-2 image')",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "app_edit_mode.png"))
        edit_metrics = page.locator("#metrics").inner_text()

        page.get_by_role("tab", name="Change", exact=True).click()
        set_number(page, "#samples", 2)
        page.click("#change-button")
        page.wait_for_selector("#change-image img", timeout=TIMEOUT_MS)
        page.wait_for_selector("#spread-image img", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelector('.eco-blend-label')?.innerText.includes('Mean change')",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_change.png"))
        sentence = page.locator("#change-sentence").inner_text()
        scroll_height = page.evaluate("document.documentElement.scrollHeight")
    assert "Edited the real Sentinel-2 image of 2020-02" in edit_metrics
    assert "of the pixels at least 2 of 2 samples agree" in sentence and "Hot and dry" in sentence
    assert "Red: brighter" in sentence
    assert scroll_height <= LOOP_VIEWPORT[1] + 80  # the Change tab keeps the page about one screen
