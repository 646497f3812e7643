"""The quick preview in the browser (1366 x 768): with the tiny model's preview LoRA in the server's
checkpoints folder, the Settings tab says the preview is on and still fits the screen, and Generate
shows two scenario images one after the other (the few-step preview, then the full image)."""

from __future__ import annotations

import pytest

from app.map_picker import DEFAULT_LEAFLET_URL
from tests.support import app_harness as harness

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

TIMEOUT_MS = 180_000  # a busy shared machine
# every src the scenario image takes from now on (the preview's, then the full image's)
WATCH_SCENARIO = """() => {
  window.scenarioSrcs = [];
  const note = () => { const img = document.querySelector('#generated-image img');
    if (img && img.src && !window.scenarioSrcs.includes(img.src)) window.scenarioSrcs.push(img.src); };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_settings_say_the_preview_is_on_and_generate_shows_it_before_the_full_image(test_rasters, tmp_path):
    from tests.support.gen_tiny_weights import save_tiny_lora

    server, settings = harness.start_browser_replay(test_rasters, tmp_path)
    save_tiny_lora(settings.checkpoints_dir / "tiny-preview")
    harness.ARTIFACTS.mkdir(exist_ok=True)
    try:
        with (
            harness.running_app(settings, "tiny-random", tmp_path / "outputs") as app,
            harness.chromium_page(harness.LOOP_VIEWPORT) as page,
        ):
            harness.serve_offline(page, DEFAULT_LEAFLET_URL)
            page.goto(app.url)
            page.get_by_role("tab", name="Settings", exact=True).click()
            notes = page.locator("#model-notes")
            notes.wait_for(timeout=TIMEOUT_MS)
            assert "Quick preview on: a 2-step image" in notes.inner_text()
            assert page.evaluate("document.documentElement.scrollHeight") <= harness.LOOP_VIEWPORT[1]
            page.screenshot(path=str(harness.ARTIFACTS / "preview-settings.png"))
            harness.set_number(page, "#steps", 2)
            page.get_by_role("tab", name="Today vs scenario", exact=True).click()
            harness.set_field(page, "#month", "2020-02")
            harness.click_map_at(page, 24.8, -11.4)
            page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
            page.evaluate(WATCH_SCENARIO)
            page.click("#generate")
            page.wait_for_function("() => document.querySelector('#metrics')?.innerText.includes('SSIM')",
                                   timeout=TIMEOUT_MS)  # fmt: skip
            page.screenshot(path=str(harness.ARTIFACTS / "preview-after-generate.png"))
            assert len(page.evaluate("window.scenarioSrcs")) == 2  # the preview, then the full image
    finally:
        server.stop()
