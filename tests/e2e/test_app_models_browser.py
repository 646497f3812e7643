"""The Models tab in Debian's Chromium at 1366 x 768, offline: a click on the map observes the
place (replay server), then "Compare models" puts every tiny family beside the real image.
The screenshot goes to test-artifacts/app_models.png."""

from __future__ import annotations

import re

import pytest

from app.map_picker import DEFAULT_LEAFLET_URL
from core.model_policy import ModelPolicy
from core.models.backends.registry import BACKENDS, TINY_BACKENDS
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
from tests.support.tile_server import TileServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON = 24.8, -11.4
TIMEOUT_MS = 180_000


def test_models_tab_shows_the_sheet_metrics_and_how_to_get_the_missing_models(test_rasters, tmp_path):
    server, settings = start_browser_replay(test_rasters, tmp_path)
    # Started with --allow-model for every real backend: none has weights here, so each says how to get it.
    policy = ModelPolicy.for_server("tiny-random", tmp_path / "checkpoints", models=tuple(BACKENDS))
    settings = settings.with_(model_policy=policy)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with (
            TileServer() as tiles,
            running_app(settings.with_(osm_tile_url=tiles.url_template), "tiny-random", tmp_path / "out") as app,
            chromium_page(LOOP_VIEWPORT) as page,
        ):
            serve_offline(page, DEFAULT_LEAFLET_URL)
            page.goto(app.url)
            page.wait_for_selector('.eco-map[data-ready="1"]', timeout=30_000)
            set_field(page, "#month", "2020-02")
            click_map_at(page, LAT, LON)
            page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
            page.get_by_role("tab", name="Models", exact=True).click()
            page.click("#compare-models")
            page.wait_for_selector("#models-sheet img", timeout=TIMEOUT_MS)
            page.wait_for_timeout(800)
            page.screenshot(path=str(ARTIFACTS / "app_models.png"))
            # Issue 25: the tab was 1,532 px tall (table at y 701), headers broke ("PS NR"), numbers wrapped
            scroll_height = page.evaluate("document.documentElement.scrollHeight")
            headers = page.locator("#models-metrics th").evaluate_all(
                "cells => cells.map(c => c.getClientRects().length && c.innerText)"
            )
            header_lines = page.locator("#models-metrics th").evaluate_all(
                "cells => cells.map(c => Math.round(c.getBoundingClientRect().height))"
            )
            metrics = page.locator("#models-metrics").inner_text()
            missing = page.locator("#models-missing").inner_text()
    finally:
        server.stop()
    assert "Sentinel-2" in metrics
    for backend_id in TINY_BACKENDS:
        assert backend_id in metrics
    assert scroll_height <= LOOP_VIEWPORT[1]
    assert "PSNR" in headers and "SSIM" in headers
    assert max(header_lines) <= min(header_lines) + 2, (headers, header_lines)  # no header on two lines
    assert re.search(r"\| ?\d+\.\d s", metrics.replace("\t", "| ")) or re.search(r"\d+\.\d s", metrics)
    for backend_id in BACKENDS:
        assert backend_id in missing
    assert "--allow-model" not in missing
