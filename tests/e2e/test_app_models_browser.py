"""The Models tab in Debian's Chromium at 1366 x 768, offline: a click on the map observes the
place (replay server), then "Compare models" puts every tiny family beside the real image.
The screenshot goes to test-artifacts/app_models.png."""

from __future__ import annotations

import re

import pytest

from core.model_policy import ModelPolicy
from core.models.backends.registry import BACKENDS, TINY_BACKENDS
from tests.support.app_harness import ARTIFACTS, LOOP_VIEWPORT
from tests.support.tile_server import TileServer

OBSERVE = (24.8, -11.4, "2020-02")  # the shared page (tests/e2e/conftest.py) observes it first
TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def app_settings(replay):
    """Started with --allow-model for every real backend (none has weights here, so each says how to get it)
    and a local map-tile server for map-sat's OSM tiles."""
    settings = replay[1]
    policy = ModelPolicy.for_server("tiny-random", settings.checkpoints_dir, models=tuple(BACKENDS))
    with TileServer() as tiles:
        yield settings.with_(model_policy=policy, osm_tile_url=tiles.url_template)


def test_models_tab_shows_the_sheet_metrics_and_how_to_get_the_missing_models(app_page):
    app_page.get_by_role("tab", name="Models", exact=True).click()
    app_page.click("#compare-models")
    app_page.wait_for_selector("#models-sheet img", timeout=TIMEOUT_MS)
    app_page.wait_for_timeout(800)
    app_page.screenshot(path=str(ARTIFACTS / "app_models.png"))
    # Issue 25: the tab was 1,532 px tall (table at y 701), headers broke ("PS NR"), numbers wrapped
    scroll_height = app_page.evaluate("document.documentElement.scrollHeight")
    headers = app_page.locator("#models-metrics th").evaluate_all(
        "cells => cells.map(c => c.getClientRects().length && c.innerText)"
    )
    header_lines = app_page.locator("#models-metrics th").evaluate_all(
        "cells => cells.map(c => Math.round(c.getBoundingClientRect().height))"
    )
    metrics = app_page.locator("#models-metrics").inner_text()
    missing = app_page.locator("#models-missing").inner_text()
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
