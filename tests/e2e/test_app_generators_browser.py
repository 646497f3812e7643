"""Issue 22 in Debian's Chromium at 1366 x 768, offline (replay server, tiny server): the Generators tab lists
ZoomLDM, AeroGen and COP-GEN with what each ignores and its licence; AeroGen's box form writes the layout JSON
the CLI reads; COP-GEN's near-infrared band gives an NDVI map, also when it redraws the real scene (img2img).
Screenshots: test-artifacts/app_generators*.png."""

from __future__ import annotations

import json

from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT, run_until, set_field

OBSERVE = (24.8, -11.4, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 180_000


def _pick(page, value: str) -> None:
    """Type the generator into the dropdown until the page's note names it (a first keystroke can be lost)."""
    for _ in range(5):
        page.locator("#generator-id input").fill(value)
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(
                "(v) => document.querySelector('#generator-note')?.innerText.includes(v)", arg=value, timeout=5_000
            )
            return
        except Exception:
            continue
    raise AssertionError(f"the generator {value} could not be picked")


def test_generators_tab_boxes_for_aerogen_and_ndvi_for_copgen(app_page):
    app_page.get_by_role("tab", name="Generators", exact=True).click()
    app_page.locator("#catalog").get_by_text("Every generator").click()
    app_page.wait_for_selector("#generators-catalog table", timeout=10_000)
    catalog = app_page.locator("#generators-catalog").inner_text()
    app_page.locator("#generators-catalog").scroll_into_view_if_needed()
    # the table scrolls inside its box: show its end, where ZoomLDM, AeroGen and COP-GEN are
    app_page.locator("#generators-catalog").evaluate(
        "box => [box, ...box.querySelectorAll('*')].forEach(e => { e.scrollTop = e.scrollHeight; })"
    )
    app_page.wait_for_timeout(400)
    app_page.screenshot(path=str(ARTIFACTS / "app_generators_catalog.png"))
    app_page.evaluate("window.scrollTo(0, 0)")
    app_page.locator("#catalog").get_by_text("Every generator").click()

    _pick(app_page, "tiny-aerogen")
    app_page.locator("#box-class input").fill("storagetank")
    app_page.keyboard.press("Enter")
    app_page.wait_for_selector("#box-corners", state="visible", timeout=10_000)  # opened for AeroGen
    set_field(app_page, "#box-corners", "0.1, 0.3, 0.6, 0.6")
    app_page.click("#add-box")
    app_page.wait_for_function(
        "() => document.querySelector('#layout-json textarea')?.value.includes('storagetank')", timeout=30_000
    )
    layout = json.loads(app_page.locator("#layout-json textarea").input_value())
    app_page.click("#generator-button")
    app_page.wait_for_selector("#generator-image img", timeout=TIMEOUT_MS)
    aerogen_note = app_page.locator("#generator-note").inner_text()

    _pick(app_page, "tiny-copgen")
    app_page.click("#generator-button")
    app_page.wait_for_selector("#generator-ndvi img", timeout=TIMEOUT_MS)
    scroll_height = app_page.evaluate("document.documentElement.scrollHeight")
    app_page.wait_for_timeout(800)
    app_page.screenshot(path=str(ARTIFACTS / "app_generators.png"))
    copgen_note = app_page.locator("#generator-note").inner_text()
    app_page.locator("#generator-files-box").get_by_text("Files (PNG").click()
    files = app_page.locator("#generator-files").inner_text(timeout=10_000)

    # COP-GEN img2img: the real scene of the month (its test band rasters) redrawn at strength 0.6
    app_page.locator("#season-source").get_by_text("Real scene, other season").click()
    set_field(app_page, "#source-month", "2020-02")
    run_until(app_page, "#generator-button", text=("#generator-note", "Started from the real scene"),
              timeout_ms=TIMEOUT_MS, settle_ms=800, screenshot=ARTIFACTS / "app_generators_season.png")  # fmt: skip
    season_note = app_page.locator("#generator-note").inner_text()
    for backend_id in ("zoomldm", "aerogen", "copgen"):
        assert backend_id in catalog
    assert "no licence file" in catalog and "CC-BY-4.0" in catalog and "MIT" in catalog
    assert scroll_height <= LOOP_VIEWPORT[1]
    assert layout == [{"label": "storagetank", "box": [0.1, 0.3, 0.6, 0.6]}]
    assert "ignores climate" in aerogen_note and "Licence:" in aerogen_note
    files = files.replace("\n", "")
    assert "NDVI map" in copgen_note and "seed0.ndvi.tif" in files and "seed0.tif" in files
    assert "Started from the real scene S2A_29RKH_20200219_0_L2A of 2020-02-19 (strength 0.6)" in season_note


def test_the_catalog_offers_terramind_as_an_optional_extra(app_page):
    # TerraMind needs terratorch (not installed with the app): listed with its install line, licence and ignores
    app_page.evaluate("window.scrollTo(0, 0)")
    app_page.get_by_role("tab", name="Generators", exact=True).click()
    app_page.locator("#catalog").get_by_text("Every generator").click()
    app_page.wait_for_selector("#generators-catalog table", timeout=10_000)
    row = app_page.locator("#generators-catalog tr", has_text="terramind")
    row.scroll_into_view_if_needed()
    app_page.wait_for_timeout(400)
    app_page.screenshot(path=str(ARTIFACTS / "app_generators_terramind.png"))
    text = " ".join(row.inner_text().split())
    assert "terramind (optional extra: pip install -r requirements-terramind.txt)" in text
    assert "month (no date input)" in text and "Apache-2.0" in text
