"""App responsiveness, measured in Chromium against the local replay server and `tiny-random`.

1. Click to observed image: a click on the map (Leaflet's click event at an exact point) until the
   observed view shows that point's image and metadata, on a cold cache and on a cached point.
2. The same clicks while a generation runs: the point's round trip (latitude box updated) and the
   cached observation, compared with the idle numbers.

Run (needs ../shared/fixtures, /usr/bin/chromium and Leaflet from `bash scripts/setup.sh --dev`):

    .venv/bin/python benchmarks/bench_app_latency.py [--repeats 3] [--gen-steps 30]

Prints a table of medians and ratios and writes benchmarks/results/app_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.map_picker import DEFAULT_LEAFLET_URL  # noqa: E402
from core.geo import Point  # noqa: E402
from tests.data.make_test_cogs import make_all  # noqa: E402
from tests.support.app_harness import (  # noqa: E402
    browser_unavailable_reason,
    chromium_page,
    running_app,
    serve_offline,
    set_field,
    set_number,
)
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server  # noqa: E402

# Points whose footprint lies inside the served part of the Sahara test scene (tile 29RKH).
POINTS = [(24.80, -11.40), (24.86, -11.33), (24.74, -11.47), (24.85, -11.45), (24.75, -11.35), (24.82, -11.38)]

# Fires a Leaflet click at an exact point and polls until the latitude box and then the observed
# view show it; returns both delays in ms, measured with the page's clock.
_CLICK_JS = """
async ([lat, lon, label]) => {
  const map = document.querySelector('.eco-map').ecoMap;
  const latBox = document.querySelector('#lat input');
  const info = () => document.querySelector('#observed-info');
  const t0 = performance.now();
  map.fire('click', { latlng: L.latLng(lat, lon) });
  let pointMs = null;
  while (performance.now() - t0 < 180000) {
    if (pointMs === null && Math.abs(parseFloat(latBox.value) - lat) < 1e-4) pointMs = performance.now() - t0;
    if (pointMs !== null && info() && info().innerText.includes(label)) {
      return { point_ms: pointMs, image_ms: performance.now() - t0 };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('no observation of ' + label + ' within 180 s');
}
"""


def click(page, lat: float, lon: float) -> dict:
    return page.evaluate(_CLICK_JS, [lat, lon, Point(lat, lon).label()])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="points per measurement (max 3)")
    parser.add_argument("--gen-steps", type=int, default=30, help="denoising steps of the background generation")
    args = parser.parse_args()
    reason = browser_unavailable_reason() or (None if REAL.exists() else f"{REAL} is missing")
    if reason:
        print(f"cannot run: {reason}")
        return 2
    repeats = max(1, min(args.repeats, 3))
    cold_points, busy_points = POINTS[:repeats], POINTS[3 : 3 + repeats]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_replay_server(REAL, make_all(root / "cogs"))
        settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
        try:
            with running_app(settings, "tiny-random", root / "outputs") as app, chromium_page() as page:
                serve_offline(page, DEFAULT_LEAFLET_URL)
                page.goto(app.url)
                page.wait_for_selector('.eco-map[data-ready="1"]', timeout=60_000)
                set_field(page, "#month", "2020-02")

                cold = [click(page, *p) for p in cold_points]
                cached = [click(page, *p) for p in cold_points]
                # warm the busy points' caches too, so "during generation" compares like with like
                for p in busy_points:
                    click(page, *p)
                idle = [click(page, *p) for p in busy_points]

                # a long generation (tiny model, 1024 px) in the background
                page.get_by_role("tab", name="Generate").click()
                page.get_by_text("Advanced").click()
                set_number(page, "#steps", args.gen_steps)
                page.locator("#size").get_by_text("1024", exact=True).click()
                started = time.perf_counter()
                page.click("#generate")
                page.get_by_role("tab", name="Observed").click()
                time.sleep(1.0)  # let the model load and denoising start
                busy = []
                busy_done_s = []
                for p in busy_points:
                    busy.append(click(page, *p))
                    busy_done_s.append(time.perf_counter() - started)
                page.wait_for_function(
                    "() => document.querySelector('#prompts')?.innerText.includes('satellite image')", timeout=600_000
                )
                generation_s = time.perf_counter() - started
        finally:
            server.stop()
    # a busy click counts only if it finished before the generation did
    still_running = [done < generation_s for done in busy_done_s]

    rows = [
        ("click -> observed image, first click after start", cold[0]["image_ms"], None),
        ("click -> observed image, cold cache", median([r["image_ms"] for r in cold]), None),
        ("click -> observed image, cached", median([r["image_ms"] for r in cached]), "cold"),
        ("click -> lat/lon updated, idle", median([r["point_ms"] for r in idle]), None),
        ("click -> lat/lon updated, during generation", median([r["point_ms"] for r in busy]), "idle point"),
        ("click -> observed image (cached), idle", median([r["image_ms"] for r in idle]), None),
        ("click -> observed image (cached), during generation", median([r["image_ms"] for r in busy]), "idle image"),
    ]
    bases = {"cold": rows[1][1], "idle point": rows[3][1], "idle image": rows[5][1]}
    print(f"{'measurement':55s} {'median ms':>10s}  ratio")
    for name, value, base in rows:
        ratio = f"{value / bases[base]:.2f} x {base}" if base else ""
        print(f"{name:55s} {value:10.1f}  {ratio}")
    print(
        f"background generation: {args.gen_steps} steps at 1024 px took {generation_s:.1f} s; "
        f"still running after each busy click: {still_running}"
    )
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "app_latency.json").write_text(
        json.dumps(
            {
                "cold": cold,
                "cached": cached,
                "idle": idle,
                "during_generation": busy,
                "generation_s": generation_s,
                "still_running": still_running,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
