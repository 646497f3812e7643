"""The quick preview in the browser (1366 x 768): with the tiny model's preview LoRA in the server's
checkpoints folder, the Settings tab says the preview is on and still fits the screen, and Generate
shows two scenario images one after the other (the few-step preview, then the full image)."""

from __future__ import annotations

import pytest

from tests.support import app_harness as harness

TIMEOUT_MS = 180_000  # a busy shared machine
# every src the scenario image takes from now on (the preview's, then the full image's)
WATCH_SCENARIO = """() => {
  window.scenarioSrcs = [];
  const note = () => { const img = document.querySelector('#generated-image img');
    if (img && img.src && !window.scenarioSrcs.includes(img.src)) window.scenarioSrcs.push(img.src); };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def app_settings(replay):
    """The tiny model's preview LoRA in the server's checkpoints folder, before the app starts."""
    from tests.support.gen_tiny_weights import save_tiny_lora

    settings = replay[1]
    save_tiny_lora(settings.checkpoints_dir / "tiny-preview")
    return settings


def test_settings_say_the_preview_is_on_and_generate_shows_it_before_the_full_image(app_page):
    app_page.get_by_role("tab", name="Settings", exact=True).click()
    notes = app_page.locator("#model-notes")
    notes.wait_for(timeout=TIMEOUT_MS)
    assert "Quick preview on: a 2-step image" in notes.inner_text()
    assert app_page.evaluate("document.documentElement.scrollHeight") <= harness.LOOP_VIEWPORT[1]
    app_page.screenshot(path=str(harness.ARTIFACTS / "preview-settings.png"))
    harness.set_number(app_page, "#steps", 2)
    app_page.get_by_role("tab", name="Today vs scenario", exact=True).click()
    harness.set_field(app_page, "#month", "2020-02")
    harness.click_map_at(app_page, 24.8, -11.4)
    app_page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
    app_page.evaluate(WATCH_SCENARIO)
    app_page.click("#generate")
    app_page.wait_for_function(
        "() => document.querySelector('#metrics')?.innerText.includes('SSIM')", timeout=TIMEOUT_MS
    )
    app_page.screenshot(path=str(harness.ARTIFACTS / "preview-after-generate.png"))
    assert len(app_page.evaluate("window.scenarioSrcs")) == 2  # the preview, then the full image
