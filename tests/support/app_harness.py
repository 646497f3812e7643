"""Helpers for app tests and benchmarks: launch the app in-process, drive it with Chromium offline.

Leaflet is not in the repo: `bash scripts/setup.sh --dev` installs it with npm into the git-ignored
`.dev-assets/` folder, and the browser helpers serve it from there by intercepting the CDN URL,
while every other non-local request (map tiles) is aborted, as on a machine without internet.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LEAFLET_DIST = REPO / ".dev-assets" / "node_modules" / "leaflet" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
LAUNCH_ATTEMPTS = 3
# The screen the loop must fit without scrolling (a common classroom laptop).
LOOP_VIEWPORT = (1366, 768)
_NOT_LOCAL = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])[a-z]+://")
_CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    demo: object
    url: str
    output_dir: Path


@contextmanager
def running_app(settings, model: str, output_dir: Path) -> Iterator[RunningApp]:
    """The app launched in this process on a free local port; closed on exit."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from app.ui import build_ui, launch_kwargs

    demo = build_ui(model, settings=settings, output_dir=output_dir)
    for attempt in range(LAUNCH_ATTEMPTS):
        port = free_port()
        try:
            demo.launch(
                server_name="127.0.0.1",
                server_port=port,
                prevent_thread_lock=True,
                quiet=True,
                ssr_mode=False,
                **launch_kwargs(demo),
            )
            break
        except ValueError as err:
            # Gradio's start-up probe of its own page gives up after one 3 s timeout: on a busy
            # machine that is not a broken app, so try again (and fail for real after a few).
            demo.close()
            if "localhost is not accessible" not in str(err) or attempt == LAUNCH_ATTEMPTS - 1:
                raise
    try:
        yield RunningApp(demo, f"http://127.0.0.1:{port}/", output_dir)
    finally:
        demo.close()


def browser_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (bash scripts/setup.sh --dev installs it)"
    if not (LEAFLET_DIST / "leaflet.js").exists():
        return f"Leaflet is missing in {LEAFLET_DIST} (bash scripts/setup.sh --dev installs it with npm)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    return None


def start_browser_replay(test_rasters, root: Path):
    """(replay server, settings on it under root/) for a browser test; skips or fails where it cannot run.

    CI installs the browser and Leaflet itself (scripts/setup.sh --dev): there a gap is a failure, elsewhere a skip.
    The caller stops the server.
    """
    import pytest

    from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

    reason = browser_unavailable_reason()
    if reason:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    server = start_replay_server(REAL, test_rasters)
    return server, settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")


def serve_offline(page, leaflet_base_url: str) -> None:
    """Abort every non-local request, but answer Leaflet's CDN URL from the local npm copy."""
    page.route(_NOT_LOCAL, lambda route: route.abort())

    def leaflet(route) -> None:
        name = route.request.url[len(leaflet_base_url) :].lstrip("/").split("?")[0]
        path = (LEAFLET_DIST / name).resolve()
        if LEAFLET_DIST.resolve() not in path.parents or not path.is_file():
            route.fulfill(status=404, body="not found")
            return
        route.fulfill(status=200, body=path.read_bytes(), content_type=_CONTENT_TYPES.get(path.suffix, "text/plain"))

    page.route(leaflet_base_url.rstrip("/") + "/**", leaflet)


@contextmanager
def chromium_page(viewport: tuple[int, int] = (1400, 1800)) -> Iterator[object]:
    """A page in Debian's Chromium (Playwright cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True)
            page = context.new_page()
            page.on("console", lambda msg: print(f"[browser {msg.type}] {msg.text}", file=sys.stderr))
            yield page
        finally:
            browser.close()


def click_map_at(page, lat: float, lon: float) -> None:
    """Centre the Leaflet map on (lat, lon) and click its centre, as a user would."""
    page.wait_for_selector('.eco-map[data-ready="1"]', timeout=30_000)
    page.evaluate(
        "([lat, lon]) => document.querySelector('.eco-map').ecoMap.setView([lat, lon], 10, {animate: false})",
        [lat, lon],
    )
    box = page.locator(".eco-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def set_field(page, selector: str, value: object, number: bool = False) -> None:
    """Type into a textbox (or a slider's number box), commit with Tab, and check that it stuck.

    A tab's widgets are mounted when it is first opened; a value typed during that can be reset,
    so the value is typed again until it stays.
    """
    box = page.locator(f"{selector} input[type=number]" if number else f"{selector} textarea, {selector} input").first
    wanted = float(value) if number else str(value)
    for _ in range(10):
        box.fill(str(value))
        box.press("Tab")
        page.wait_for_timeout(300)
        current = box.input_value()
        if (float(current) if number and current else current) == wanted:
            return
    raise AssertionError(f"{selector} did not keep the value {value!r} (it shows {box.input_value()!r})")


def set_number(page, selector: str, value: float) -> None:
    set_field(page, selector, value, number=True)


def run_until(
    page,
    button: str,
    *,
    text: tuple[str, str] | None = None,
    images: tuple[str, ...] = (),
    timeout_ms: int,
    settle_ms: int = 500,
    screenshot: Path | None = None,
) -> None:
    """Click `button`, wait for each image selector to show an image and for `text` = (selector, words) to
    appear in that element, let the page settle, and screenshot it when asked (a run as a person sees it)."""
    page.click(button)
    for image in images:
        page.wait_for_selector(f"{image} img", timeout=timeout_ms)
    if text is not None:
        selector, words = text
        page.wait_for_function(
            "([s, w]) => document.querySelector(s)?.innerText.includes(w)", arg=[selector, words], timeout=timeout_ms
        )
    page.wait_for_timeout(settle_ms)
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
