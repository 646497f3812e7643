"""The projection picker in Chromium at 1366 x 768: pick SSP2-4.5 and 2050, see the chart with the spread,
and the scenario controls say the projection is in use until a preset replaces it (issue 25).
Screenshots: test-artifacts/app_projection.png, app_projection_replaced.png."""

from __future__ import annotations

import pytest

from tests.support.app_harness import ARTIFACTS, set_field
from tests.support.cmip6_server import Cmip6Server

OBSERVE = (24.8, -11.4, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def app_settings(replay, cmip6_archive):
    """The seeded CMIP6 archive served as the Pangeo bucket (its catalogue CSV and Zarr stores)."""
    with Cmip6Server(cmip6_archive.root) as cmip6:
        yield replay[1].with_(
            cmip6_catalog_url=f"{cmip6.bucket_url}/pangeo-cmip6.csv", cmip6_store_url=cmip6.bucket_url
        )


def test_the_picker_draws_the_ensemble_spread(app_page):
    app_page.get_by_role("tab", name="Future", exact=True).click()
    set_field(app_page, "#projection-normals", "2010-2014")
    app_page.locator("#projection-ssp input").click()
    app_page.get_by_role("option", name="SSP2-4.5 (ssp245)").click()
    try:
        app_page.wait_for_function(
            "() => document.querySelector('#projection-summary')?.innerText.includes('SSP2-4.5 2050')",
            timeout=TIMEOUT_MS,
        )
    except Exception:
        app_page.screenshot(path=str(ARTIFACTS / "app_projection_failed.png"))
        raise
    app_page.wait_for_selector("#projection-chart img", timeout=TIMEOUT_MS)
    app_page.wait_for_timeout(800)
    app_page.screenshot(path=str(ARTIFACTS / "app_projection.png"))
    summary = app_page.locator("#projection-summary").inner_text()
    assert "ECO-GREG" in summary
    assert "SSP2-4.5 2050 (CMIP6 median, month 02)" in app_page.locator("#scenario-line").inner_text()
    _the_controls_show_the_projection_until_a_preset_replaces_it(app_page)


def _checked_preset(page) -> str:
    return page.locator("#presets input:checked").evaluate("input => input.value")


def _the_controls_show_the_projection_until_a_preset_replaces_it(page) -> None:
    """The preset row and the sliders name the projection (not 'Today' and 0); a preset click clears the picker."""
    page.wait_for_function(
        "() => document.querySelector('#presets input:checked')?.value === 'SSP2-4.5 2050'", timeout=TIMEOUT_MS
    )
    page.screenshot(path=str(ARTIFACTS / "app_projection_controls.png"))
    presets = page.locator("#presets").bounding_box()
    assert presets["height"] < 45, "the presets wrap to a second line"
    assert "SSP2-4.5 2050" in page.locator("#temp-delta").inner_text()
    assert float(page.locator("#temp-delta input[type=number]").input_value()) > 0  # the month's median warming
    assert "SSP2-4.5 2050" in page.locator("#scenario-line").inner_text()

    page.locator("#presets label", has_text="+2 °C").first.click()
    page.wait_for_function(
        "() => document.querySelector('#projection-ssp input')?.value === 'Sliders (no projection)'",
        timeout=30_000,
    )
    page.wait_for_function(
        "() => document.querySelector('#scenario-line')?.innerText.includes('+2 °C')", timeout=30_000
    )
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "app_projection_replaced.png"))
    assert _checked_preset(page) == "+2 °C"
    assert "SSP2-4.5" not in page.locator("#temp-delta").inner_text()
    assert float(page.locator("#temp-delta input[type=number]").input_value()) == 2.0
    assert "no longer used" in page.locator("#projection-summary").inner_text()
