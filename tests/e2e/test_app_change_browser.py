"""Issue 20 in Debian's Chromium at 1366 x 768, offline (replay server, `tiny-random`): Generate in mode Edit with
its options shown, then the Change tab: N seeds, the change and spread maps, the agreement sentence and the mean
change drawn on the map. Screenshots: test-artifacts/app_edit_mode.png, app_change.png."""

from __future__ import annotations

from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT, run_until, set_number

OBSERVE = (24.8, -11.4, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 180_000


def test_edit_mode_and_the_change_view(app_page):
    app_page.get_by_role("tab", name="Settings", exact=True).click()
    set_number(app_page, "#steps", 2)
    app_page.get_by_role("tab", name="Today vs scenario", exact=True).click()
    assert not app_page.locator("#edit-options").is_visible()
    app_page.locator("#mode").get_by_text("Edit", exact=True).click()
    app_page.wait_for_selector("#edit-options", state="visible", timeout=10_000)
    app_page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
    run_until(app_page, "#generate", images=("#generated-image",),
              text=("#metrics", "Edited the real Sentinel-2 image"), timeout_ms=TIMEOUT_MS,
              screenshot=ARTIFACTS / "app_edit_mode.png")  # fmt: skip
    edit_metrics = app_page.locator("#metrics").inner_text()

    app_page.get_by_role("tab", name="Change", exact=True).click()
    set_number(app_page, "#samples", 2)
    run_until(app_page, "#change-button", images=("#change-image", "#spread-image"),
              text=(".eco-blend-label", "Mean change"), timeout_ms=TIMEOUT_MS, settle_ms=800,
              screenshot=ARTIFACTS / "app_change.png")  # fmt: skip
    sentence = app_page.locator("#change-sentence").inner_text()
    scroll_height = app_page.evaluate("document.documentElement.scrollHeight")
    assert "Edited the real Sentinel-2 image of 2020-02" in edit_metrics
    assert "of the pixels at least 2 of 2 samples agree" in sentence and "Hot and dry" in sentence
    assert "Red: brighter" in sentence
    assert scroll_height <= LOOP_VIEWPORT[1] + 80  # the Change tab keeps the page about one screen
