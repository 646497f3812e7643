"""App responsiveness at 1366 x 768 in Chromium, against the local replay server and `tiny-random`.

For each map click (a real mouse click on the map's centre, after centring it on the point):
1. click -> marker: the page draws the marker and footprint itself, without asking the server;
2. click -> point confirmed: the server's answer fills the latitude box (what the marker waited for
   before it was drawn in the page);
3. click -> observed image: the month's Sentinel-2 image is shown.
Cold: the first click on each point (nothing cached); warm: the same points again (scene, climate
and land cover cached on disk). The place look-up is warmed in the background when the app starts.

Run (needs ../shared/fixtures, /usr/bin/chromium and Leaflet from `bash scripts/setup.sh --dev`):

    .venv/bin/python benchmarks/bench_app_latency.py [--repeats 3]

Prints medians and ratios side by side and writes benchmarks/results/app_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.map_picker import DEFAULT_LEAFLET_URL  # noqa: E402
from tests.data.make_test_cogs import make_all  # noqa: E402
from tests.support.app_harness import (  # noqa: E402
    LOOP_VIEWPORT,
    browser_unavailable_reason,
    chromium_page,
    running_app,
    serve_offline,
    set_field,
)
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server  # noqa: E402

# Points whose footprint lies inside the served part of the Sahara test scene (tile 29RKH).
POINTS = [(24.80, -11.40), (24.86, -11.33), (24.74, -11.47), (24.85, -11.45), (24.75, -11.35)]

# Armed before the mouse press: from the press, polls for the marker, the latitude box and a new
# observed image; resolves with the three delays in ms (the page's clock).
_ARM_JS = """
([lat]) => {
  const box = document.querySelector('.eco-map');
  const oldSrc = document.querySelector('#observed-image img')?.getAttribute('src') || null;
  window.__clickTimes = new Promise((resolve, reject) => {
    box.addEventListener('mousedown', () => {
      const t0 = performance.now();
      const out = { marker_ms: null, point_ms: null, image_ms: null };
      const poll = () => {
        const now = performance.now() - t0;
        // the page's own click handler records the clicked point as it draws the marker
        const clicked = Math.abs(parseFloat(box.dataset.clickLat) - lat) < 0.01;
        if (out.marker_ms === null && clicked && box.querySelector('path.eco-marker')) out.marker_ms = now;
        const latBox = document.querySelector('#lat input, #lat textarea');
        if (out.point_ms === null && latBox && Math.abs(parseFloat(latBox.value) - lat) < 0.01) out.point_ms = now;
        const src = document.querySelector('#observed-image img')?.getAttribute('src') || null;
        if (out.image_ms === null && src && src !== oldSrc) out.image_ms = now;
        if (out.marker_ms !== null && out.point_ms !== null && out.image_ms !== null) { resolve(out); return; }
        if (now > 180000) { reject(new Error('no observation within 180 s')); return; }
        requestAnimationFrame(poll);
      };
      poll();
    }, { once: true, capture: true });
  });
}
"""


def click(page, lat: float, lon: float) -> dict:
    page.evaluate(
        "([lat, lon]) => document.querySelector('.eco-map').ecoMap.setView([lat, lon], 11, {animate: false})",
        [lat, lon],
    )
    page.evaluate(_ARM_JS, [lat])
    box = page.locator(".eco-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    return page.evaluate("window.__clickTimes")


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help=f"points per measurement (max {len(POINTS)})")
    args = parser.parse_args()
    reason = browser_unavailable_reason() or (None if REAL.exists() else f"{REAL} is missing")
    if reason:
        print(f"cannot run: {reason}")
        return 2
    points = POINTS[: max(1, min(args.repeats, len(POINTS)))]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_replay_server(REAL, make_all(root / "cogs"))
        settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
        try:
            with running_app(settings, "tiny-random", root / "outputs") as app, chromium_page(LOOP_VIEWPORT) as page:
                serve_offline(page, DEFAULT_LEAFLET_URL)
                page.goto(app.url)
                page.wait_for_selector('.eco-map[data-ready="1"]', timeout=60_000)
                set_field(page, "#month", "2020-02")
                cold = [click(page, *p) for p in points]
                warm = [click(page, *p) for p in points]
        finally:
            server.stop()

    rows = [
        ("click -> marker (drawn in the page), cold", median(cold, "marker_ms"), ("cold", "point_ms")),
        ("click -> marker (drawn in the page), warm", median(warm, "marker_ms"), ("warm", "point_ms")),
        ("click -> point confirmed by the server, cold", median(cold, "point_ms"), None),
        ("click -> point confirmed by the server, warm", median(warm, "point_ms"), None),
        ("click -> observed image, cold (first click on the point)", median(cold, "image_ms"), None),
        ("click -> observed image, warm (cached point)", median(warm, "image_ms"), ("cold", "image_ms")),
        ("first click after start -> observed image", cold[0]["image_ms"], None),
    ]
    runs = {"cold": cold, "warm": warm}
    print(f"{'measurement (median of ' + str(len(points)) + ' points)':60s} {'ms':>9s}  ratio")
    for name, value, base in rows:
        ratio = ""
        if base:
            run, key = base
            ratio = f"{value / median(runs[run], key):.3f} x {key.removesuffix('_ms')} ({run})"
        print(f"{name:60s} {value:9.1f}  {ratio}")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app_latency.json").write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
