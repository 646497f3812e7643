"""The projection picker in Chromium at 1366 x 768: pick SSP2-4.5 and 2050, see the chart with the spread,
and the scenario controls say the projection is in use until a preset replaces it (issue 25).
Screenshots: test-artifacts/app_projection.png, app_projection_replaced.png."""

from __future__ import annotations

import os

import pytest

from app.map_picker import DEFAULT_LEAFLET_URL
from tests.support.app_harness import (
    ARTIFACTS,
    LOOP_VIEWPORT,
    browser_unavailable_reason,
    chromium_page,
    click_map_at,
    running_app,
    serve_offline,
    set_field,
)
from tests.support.cmip6_server import Cmip6Server
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

TIMEOUT_MS = 120_000


def test_the_picker_draws_the_ensemble_spread(test_rasters, cmip6_archive, tmp_path):
    reason = browser_unavailable_reason()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    server = start_replay_server(REAL, test_rasters)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with Cmip6Server(cmip6_archive.root) as cmip6:
            settings = settings_for(
                server, tmp_path / "cache", checkpoints_dir=tmp_path / "checkpoints",
                cmip6_catalog_url=f"{cmip6.bucket_url}/pangeo-cmip6.csv", cmip6_store_url=cmip6.bucket_url,
            )  # fmt: skip
            with (
                running_app(settings, "tiny-random", tmp_path / "outputs") as app,
                chromium_page(LOOP_VIEWPORT) as page,
            ):
                serve_offline(page, DEFAULT_LEAFLET_URL)
                page.goto(app.url)
                page.wait_for_selector('.eco-map[data-ready="1"]', timeout=30_000)
                set_field(page, "#month", "2020-02")
                click_map_at(page, 24.8, -11.4)
                page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
                page.get_by_role("tab", name="Future", exact=True).click()
                set_field(page, "#projection-normals", "2010-2014")
                page.locator("#projection-ssp input").click()
                page.get_by_role("option", name="SSP2-4.5 (ssp245)").click()
                try:
                    page.wait_for_function(
                        "() => document.querySelector('#projection-summary')?.innerText.includes('SSP2-4.5 2050')",
                        timeout=TIMEOUT_MS,
                    )
                except Exception:
                    page.screenshot(path=str(ARTIFACTS / "app_projection_failed.png"))
                    raise
                page.wait_for_selector("#projection-chart img", timeout=TIMEOUT_MS)
                page.wait_for_timeout(800)
                page.screenshot(path=str(ARTIFACTS / "app_projection.png"))
                summary = page.locator("#projection-summary").inner_text()
                assert "ECO-GREG" in summary
                assert "SSP2-4.5 2050 (CMIP6 median, month 02)" in page.locator("#scenario-line").inner_text()
                _the_controls_show_the_projection_until_a_preset_replaces_it(page)
    finally:
        server.stop()


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
