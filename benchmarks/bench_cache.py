"""Cold against cached latency of a scene and of a climate series, against the local replay server.

    .venv/bin/python -m benchmarks.bench_cache [--repeat 5]

Cold: an empty cache directory each time (search, SCL and visual window reads, POWER request).
Cached: the same cache directory again (no request reaches the server; checked).
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

from core.geo import Month, Point
from core.sources.climate import fetch_climate
from core.sources.imagery import fetch_scene
from tests.data.make_test_cogs import make_all
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

SAHARA = Point(24.8, -11.4)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not REAL.exists():
        print(f"needs the shared fixtures at {REAL}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_replay_server(REAL, make_all(tmp))
        try:
            cases = {
                "scene 2020-02 (512x512)": lambda s: fetch_scene(SAHARA, Month(2020, 2), s),
                "climate 2010-01..2024-12": lambda s: fetch_climate(SAHARA, Month(2010, 1), Month(2024, 12), s),
            }
            print(f"{'request':<26}{'cold (ms)':>12}{'cached (ms)':>14}{'speed-up':>10}")
            for label, call in cases.items():
                call(settings_for(server, Path(tmp) / "warm-up"))  # imports and first-use costs out of the way
                cold, cached = [], []
                for run in range(args.repeat):
                    settings = settings_for(server, Path(tmp) / f"{label[:5]}-{run}")
                    cold.append(timed(lambda settings=settings, call=call: call(settings)))
                    before = len(server.requests)
                    cached.append(timed(lambda settings=settings, call=call: call(settings)))
                    assert len(server.requests) == before, "a cached request reached the server"
                cold_ms, cached_ms = 1000 * statistics.median(cold), 1000 * statistics.median(cached)
                print(f"{label:<26}{cold_ms:>12.1f}{cached_ms:>14.2f}{cold_ms / cached_ms:>9.0f}x")
            print(f"(medians of {args.repeat} runs; local server, so network latency is not included in cold)")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
