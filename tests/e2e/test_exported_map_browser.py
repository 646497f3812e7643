"""The exported HTML map (app/map_export.py) in Chromium at 1366 x 768, offline: Leaflet from the local npm
copy in place of folium's CDN, every other outside request aborted. Screenshots go to test-artifacts/.

Issue 25: the real, today's and the scenario's image were all switched on at once, so only the top one
could be seen; now the scenario is on and the other two are a tick away in the layer switcher.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.map_export import write_result_map
from core.geo import Footprint, Point
from tests.support.app_harness import ARTIFACTS

FOLIUM_LEAFLET_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"
LOADED = "() => [...document.querySelectorAll('img.leaflet-image-layer')].every(i => i.complete && i.naturalWidth)"
PAGE_URL = "http://127.0.0.1:9/exported-map.html"  # answered by the test, never by a server


@pytest.fixture(scope="module")
def leaflet_url():
    """folium's Leaflet URL, answered from the local npm copy by the shared `browser_page` (tests/e2e/conftest.py)."""
    return FOLIUM_LEAFLET_URL


def _flat(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.full((64, 64, 3), rgb, dtype=np.uint8)


def _shown_pixel(page) -> list[int]:
    """The top-left pixel of the image layer on the map, read back through a canvas."""
    return page.evaluate(
        """() => { const img = document.querySelector('img.leaflet-image-layer');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d'); context.drawImage(img, 0, 0);
        return [...context.getImageData(0, 0, 1, 1).data]; }"""
    )


def test_the_exported_map_opens_on_the_scenario_and_switches_to_real_and_today(browser_page, tmp_path):
    footprint = Footprint.around(Point(24.8, -11.4))
    page_path = write_result_map(
        tmp_path / "map.html",
        bbox=footprint.bbox,
        footprint=footprint.geojson(),
        real=_flat((200, 180, 120)),
        today=(_flat((20, 120, 20)), "AI-generated · today"),
        scenario=(_flat((160, 60, 20)), "AI-generated · +4 °C, −30 % rain"),
    )
    # the file as a browser opens it, from a local address (the offline guard aborts file:// too)
    html = page_path.read_text(encoding="utf-8")
    browser_page.route(PAGE_URL, lambda route: route.fulfill(status=200, body=html, content_type="text/html"))
    browser_page.goto(PAGE_URL)
    browser_page.wait_for_selector(".leaflet-control-layers-overlays input", timeout=30_000)
    switches = browser_page.locator(".leaflet-control-layers-overlays label")
    names = [text.strip() for text in switches.all_inner_texts()]
    assert names[:3] == ["Real (Sentinel-2)", "AI-generated · today", "AI-generated · +4 °C, −30 % rain"]
    checked = [box.is_checked() for box in browser_page.locator(".leaflet-control-layers-overlays input").all()]
    assert checked[:3] == [False, False, True]
    overlays = browser_page.locator("img.leaflet-image-layer")
    assert overlays.count() == 1
    browser_page.wait_for_function(LOADED, timeout=10_000)
    # the pixels are the result's own (folium's encoder used to stretch each image to its maximum)
    assert _shown_pixel(browser_page) == [160, 60, 20, 255]
    browser_page.screenshot(path=str(ARTIFACTS / "exported_map_scenario.png"))
    switches.nth(0).locator("input").check()
    assert overlays.count() == 2  # the real image joins, on top: the one just switched on is seen
    switches.nth(2).locator("input").uncheck()
    assert overlays.count() == 1
    browser_page.wait_for_function(LOADED, timeout=10_000)
    assert _shown_pixel(browser_page) == [200, 180, 120, 255]
    browser_page.screenshot(path=str(ARTIFACTS / "exported_map_real.png"))
