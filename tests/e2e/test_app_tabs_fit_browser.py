"""The Climate, Grid and Models tabs in Chromium at 1366 x 768, offline (replay server, tiny-random), issue 25:
the Climate tab fits and its chart marks the picked scenario (it scrolled to 1,245 px and showed none); the Grid
and Models tabs fit before and after a run, the grid's file name is whole, and the Models table says why its
scores differ from the first tab's. One page, in file order. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT, run_until, set_number

OBSERVE = (24.8, -11.4, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 120_000
CHART = "#climate-plot img"
CHART_CHANGED = (
    "(before) => { const img = document.querySelector('#climate-plot img'); return img && img.src !== before; }"
)


@pytest.fixture(scope="module")
def page(app_page):
    """The shared app page, its place observed, generating in 2 steps, back on the first tab."""
    _open_tab(app_page, "Settings")
    set_number(app_page, "#steps", 2)
    _open_tab(app_page, "Today vs scenario")
    return app_page


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollHeight") <= LOOP_VIEWPORT[1]


def test_the_climate_tab_fits_the_screen_and_its_chart_follows_the_scenario(page):
    _open_tab(page, "Climate")
    page.wait_for_selector(CHART, timeout=TIMEOUT_MS)
    today_chart = page.locator(CHART).get_attribute("src")
    page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
    # the chart is drawn again with the scenario's star on the month
    page.wait_for_function(CHART_CHANGED, arg=today_chart, timeout=TIMEOUT_MS)
    scenario_chart = page.locator(CHART).get_attribute("src")
    page.wait_for_timeout(500)
    assert _fits(page)
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


def test_the_grid_tab_fits_before_and_after_a_grid_and_names_its_file_whole(page):
    _open_tab(page, "Grid")
    page.wait_for_timeout(500)
    assert _fits(page)  # the empty download box was a 260 px drop zone
    page.click("#grid")
    page.wait_for_selector("#grid-image img", timeout=TIMEOUT_MS)
    page.wait_for_selector("#grid-file .filename", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    assert _fits(page)
    name = page.locator("#grid-file .filename").first
    assert "_grid_" in name.inner_text().replace("\n", "")  # it was cut to ".p"
    cut = name.evaluate("el => [...el.querySelectorAll('*')].some(part => part.scrollWidth > part.clientWidth + 1)")
    assert not cut
    page.screenshot(path=str(ARTIFACTS / "app_grid.png"))


def test_the_models_tab_fits_and_says_why_its_scores_differ_from_the_first_tab(page):
    _open_tab(page, "Models")
    page.wait_for_timeout(500)
    assert _fits(page)
    run_until(page, "#compare-models", images=("#models-sheet",),
              text=("#models-metrics", "compare scores within one tab"), timeout_ms=TIMEOUT_MS)  # fmt: skip
    assert _fits(page)
    note = page.get_by_text("its own size and steps", exact=False).first
    box = note.bounding_box()
    assert box is not None and box["y"] + box["height"] <= LOOP_VIEWPORT[1]
    page.screenshot(path=str(ARTIFACTS / "app_models_fit.png"))


def test_the_slider_shows_whole_images_and_marks_today_and_scenario(page):
    """Issue 25: the Slider tab cropped the images to their top half and did not say which side is which."""
    _open_tab(page, "Today vs scenario")
    page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
    page.wait_for_timeout(500)
    page.click("#generate")
    page.wait_for_selector("#today-image img", timeout=TIMEOUT_MS)
    _open_tab(page, "Slider")
    page.wait_for_function("() => document.querySelectorAll('#compare-slider img').length >= 2", timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    shown = page.evaluate(
        """() => { const c = document.querySelector('#compare-slider .content');
        const img = c.querySelector('img'); const box = img.getBoundingClientRect();
        const frame = document.querySelector('#compare-slider').getBoundingClientRect();
        const wrap = c.closest('.wrap').getBoundingClientRect();
        return {before: getComputedStyle(c, '::before').content, after: getComputedStyle(c, '::after').content,
                slider_width: wrap.width, image_width: box.width,
                ratio: box.width / box.height, natural: img.naturalWidth / img.naturalHeight,
                inside: box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1}; }"""
    )
    assert shown["before"] == '"◀ today"' and shown["after"] == '"scenario ▶"'
    assert shown["ratio"] == pytest.approx(shown["natural"], rel=0.02) and shown["inside"]  # the whole image
    assert shown["slider_width"] == pytest.approx(shown["image_width"], abs=2)  # the handle cuts where it is
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "app_slider_marks.png"))


def test_the_map_fades_today_into_the_scenario_with_the_real_image_as_a_third_layer(page):
    """Issue 25: the map's fader went from the real image to the scenario, not from today to the scenario."""
    _open_tab(page, "Today vs scenario")
    page.wait_for_selector(".eco-map img.eco-today-overlay", timeout=TIMEOUT_MS)
    layers = """() => [...document.querySelectorAll('.eco-map img.leaflet-image-layer')].map(
        img => [img.className.match(/eco-(real|today|ai)-overlay/)[1], getComputedStyle(img).opacity])"""
    # bottom to top: real (hidden), today, scenario; the fader's ends are named today and AI-generated
    assert page.evaluate(layers) == [["real", "0"], ["today", "1"], ["ai", "1"]]
    assert page.locator(".eco-blend span").first.inner_text() == "today"
    page.locator(".eco-blend input[type=range]").fill("0")
    assert page.evaluate(layers)[-1] == ["ai", "0"]  # the fader shows today's image alone
    page.screenshot(path=str(ARTIFACTS / "app_map_today.png"))
    page.locator(".eco-real-toggle input").check()
    assert page.evaluate(layers)[-1] == ["real", "1"]  # the real image on top of both
    page.screenshot(path=str(ARTIFACTS / "app_map_real_on_top.png"))
    page.locator(".eco-real-toggle input").uncheck()
    assert page.evaluate(layers)[0] == ["real", "0"]
