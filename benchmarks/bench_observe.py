"""Observe one place and month: the four parts (scene, climate, land cover, place) asked at once, as
`core.services.observe` does, against the same parts one after another, cold (empty cache) each run.

    .venv/bin/python -m benchmarks.bench_observe [--repeat 3] [--latency-ms 0 100]

`--latency-ms` delays every request the replay server answers by that much (a stand-in for the
network between a user and STAC / the COG host / NASA POWER); the local server alone has almost none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Cold reads: GDAL must not answer from its in-process /vsicurl/ cache either.
os.environ.setdefault("CPL_VSIL_CURL_NON_CACHED", "/vsicurl/http://127.0.0.1")

from core.errors import EcoMapperError
from core.geo import Month, Point
from core.services import climate_series, fetch_real_scene, land_cover_at, observe, place_of
from tests.data.make_test_cogs import make_all
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server
from tests.support.replay_server import Fault

SAHARA = Point(24.8, -11.4)
MONTH = Month(2020, 2)
SERVICE_PREFIXES = ("/stac/", "/power/", "/lc/", "/files/")


def one_after_another(settings) -> None:
    """The same parts in sequence (how the app's observe handler asked them before the service layer)."""
    for part in (
        lambda: fetch_real_scene(SAHARA, MONTH, settings),
        lambda: climate_series(SAHARA, MONTH - 47, MONTH, settings),
        lambda: land_cover_at(SAHARA, settings),
        lambda: place_of(SAHARA),
    ):
        try:
            part()
        except EcoMapperError:
            continue


def at_once(settings) -> None:
    seen = observe(SAHARA, MONTH, settings, history_months=48)
    assert seen.scene is not None and seen.climate is not None, "the benchmark must observe a full month"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 100.0])
    args = parser.parse_args()
    if not REAL.exists():
        print(f"needs the shared fixtures at {REAL}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_replay_server(REAL, make_all(tmp))
        try:
            at_once(settings_for(server, Path(tmp) / "warm-up"))  # imports, land mask, gazetteer
            print(f"{'latency/request':<18}{'one after another (ms)':>24}{'at once (ms)':>14}{'speed-up':>10}")
            for latency in args.latency_ms:
                times: dict[str, list[float]] = {"sequential": [], "parallel": []}
                for run in range(args.repeat):
                    for name, call in (("sequential", one_after_another), ("parallel", at_once)):
                        settings = settings_for(server, Path(tmp) / f"{name}-{latency}-{run}")
                        if latency:
                            for prefix in SERVICE_PREFIXES:
                                server.inject(prefix, *[Fault("delay", seconds=latency / 1000)] * 200)
                        started = time.perf_counter()
                        call(settings)
                        times[name].append(time.perf_counter() - started)
                        server.faults.clear()
                sequential = 1000 * statistics.median(times["sequential"])
                parallel = 1000 * statistics.median(times["parallel"])
                print(f"{latency:>10.0f} ms{'':<5}{sequential:>24.1f}{parallel:>14.1f}{sequential / parallel:>9.2f}x")
            print(f"(medians of {args.repeat} cold runs; 48 months of climate, as the app's chart)")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
