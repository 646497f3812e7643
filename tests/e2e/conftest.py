"""The browser tests' shared start: the replay server, the app on `tiny-random` and a Chromium page at 1366 x 768,
offline (Leaflet from the local npm copy, every other outside request aborted).

A test file takes `app_page` (one page for the whole file, its tests run in file order as one person's session)
or `browser_page` (Chromium alone). What a file needs beyond that it says by overriding a fixture of the same
name in the file (pytest's own way): `app_settings` for more servers or a policy, `leaflet_url` for another
Leaflet copy; and `OBSERVE = (lat, lon, "YYYY-MM")` in the file has the page observe that place first.
Every test here is marked `e2e` and `slow`.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    start_browser_replay,
)

OBSERVE_TIMEOUT_MS = 180_000  # a busy shared machine
HERE = Path(__file__).parent
E2E_MARKS = (
    pytest.mark.e2e,
    pytest.mark.slow,
    # gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
)


def pytest_collection_modifyitems(items):
    """The marks of every browser test (a hook sees the whole session's tests: only those in this folder)."""
    for item in items:
        if HERE in item.path.parents:
            for mark in E2E_MARKS:
                item.add_marker(mark)


@pytest.fixture(scope="module")
def e2e_root(tmp_path_factory):
    """The file's folder: the replay cache, checkpoints and the app's outputs."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def replay(test_rasters, e2e_root):
    """(server, settings on it): the replay server of the real recordings, stopped after the file."""
    server, settings = start_browser_replay(test_rasters, e2e_root)
    yield server, settings
    server.stop()


@pytest.fixture(scope="module")
def app_settings(replay):
    """The settings the app starts with (every endpoint on the replay server); a file overrides this for more."""
    return replay[1]


@pytest.fixture(scope="module")
def leaflet_url():
    """The Leaflet URL the page asks for, answered from the local npm copy."""
    return DEFAULT_LEAFLET_URL


@pytest.fixture(scope="module")
def browser_page(leaflet_url):
    """A page in Debian's Chromium at 1366 x 768, offline; skipped (failed on CI) where the browser cannot run."""
    reason = browser_unavailable_reason()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(LOOP_VIEWPORT) as page:
        serve_offline(page, leaflet_url)
        yield page


@pytest.fixture(scope="module")
def app_page(request, app_settings, e2e_root, browser_page):
    """The app's page with its map ready (and the file's `OBSERVE` place observed, when it names one)."""
    with running_app(app_settings, "tiny-random", e2e_root / "outputs") as app:
        browser_page.goto(app.url)
        browser_page.wait_for_selector('.eco-map[data-ready="1"]', timeout=30_000)
        observe = getattr(request.module, "OBSERVE", None)
        if observe is not None:
            lat, lon, month = observe
            set_field(browser_page, "#month", month)
            click_map_at(browser_page, lat, lon)
            browser_page.wait_for_selector("#observed-image img", timeout=OBSERVE_TIMEOUT_MS)
        yield browser_page
