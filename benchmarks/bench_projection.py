"""CMIP6 projections: bytes and requests per point against the chunks read, cold and cached; region throughput.

    .venv/bin/python -m benchmarks.bench_projection [--points 100] [--archive DIR] [--latency-ms 50] [--skip-region]

Against the seeded test archive (tests/data/make_cmip6_store.py: 3 usable models, 120-month chunks
of the whole 12 x 24 grid) served on 127.0.0.1. Per point: the requests and bytes of one
projection (6 stores x 3 models + 2 land fractions), split into metadata and data chunks, with the
data chunks' compressed size; the floor is the chunks the two 20-year windows touch. Region: the
same changes for N land points (a) one point after another through the point path (one process,
shared on-disk cache), (b) one dask graph on local threads, (c) the same graph on a local
dask.distributed cluster (2 worker processes) - each from a cold cache.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from core.climate.values import ClimateValues
from core.config import Settings
from core.geo import Point
from core.sources.places import is_on_land
from core.sources.projections import project_climate, project_region
from tests.data.make_cmip6_store import LATS, LONS, TIME_CHUNK, write_archive
from tests.support.cmip6_server import Cmip6Server

SAHARA = Point(24.8, -11.4)
OBSERVED = tuple(ClimateValues(20.0, 2.0, 20.0) for _ in range(12))
CHUNK_RAW_BYTES = TIME_CHUNK * LATS.size * LONS.size * 4  # float32


def settings_for(server: Cmip6Server, cache: Path, **changes) -> Settings:
    return Settings.from_env().with_(
        cmip6_catalog_url=f"{server.bucket_url}/pangeo-cmip6.csv",
        cmip6_store_url=server.bucket_url,
        cache_dir=cache,
        retries=1,
        backoff_s=0.0,
        **changes,
    )


DATA_KEY = re.compile(r"/v\d{8}/(tas|pr|rsds)/\d+\.\d+\.\d+$")


def is_chunk(path: str) -> bool:
    """A data chunk of tas/pr/rsds (not metadata, coordinates or the land fraction)."""
    return DATA_KEY.search(path) is not None


def region_points(count: int) -> list[Point]:
    """`count` land points on a regular grid over Africa and Europe (deterministic)."""
    points = []
    for lat in np.linspace(-30, 60, 40):
        for lon in np.linspace(-15, 45, 40):
            point = Point(float(round(lat, 3)), float(round(lon, 3)))
            if is_on_land(point):
                points.append(point)
    step = max(1, len(points) // count)
    return points[::step][:count]


def per_point(server: Cmip6Server, tmp: Path) -> None:
    settings = settings_for(server, tmp / "cache-point")
    server.reset()
    start = time.perf_counter()
    project_climate(SAHARA, "ssp245", 2050, settings, observed=OBSERVED)
    cold_s = time.perf_counter() - start
    served = list(server.requests)
    chunks = [r for r in served if is_chunk(r.path)]
    meta = [r for r in served if not is_chunk(r.path)]
    server.reset()
    start = time.perf_counter()
    project_climate(SAHARA, "ssp245", 2050, settings, observed=OBSERVED)
    warm_s, warm_requests = time.perf_counter() - start, len(server.requests)
    server.reset()
    start = time.perf_counter()
    project_climate(Point(23.0, -13.0), "ssp245", 2050, settings, observed=OBSERVED)
    near_s, near_requests = time.perf_counter() - start, len(server.requests)
    # Floor: per model and variable, the chunks the two windows touch (1995-2014: 2; 2041-2060: 3).
    floor = 3 * 3 * (2 + 3)
    mean_chunk = np.mean([r.bytes_sent for r in chunks]) if chunks else 0.0
    print("one point (ssp245, 2050), 3 models:")
    print(f"  {'':28}{'requests':>9}{'bytes':>12}{'seconds':>9}")
    print(f"  {'cold: all':28}{len(served):9d}{sum(r.bytes_sent for r in served):12,d}{cold_s:9.2f}")
    print(f"  {'  metadata + coordinates':28}{len(meta):9d}{sum(r.bytes_sent for r in meta):12,d}")
    print(f"  {'  data chunks':28}{len(chunks):9d}{sum(r.bytes_sent for r in chunks):12,d}")
    print(f"  {'same point again':28}{warm_requests:9d}{0:12d}{warm_s:9.2f}")
    print(f"  {'new point, same chunks':28}{near_requests:9d}{0:12d}{near_s:9.2f}")
    print(
        f"  data chunks read / floor = {len(chunks)} / {floor} = {len(chunks) / floor:.2f}; "
        f"mean chunk {mean_chunk:,.0f} B compressed of {CHUNK_RAW_BYTES:,d} B raw "
        f"({TIME_CHUNK} months x {LATS.size} x {LONS.size} float32); "
        f"the values used are {20 * 12 * 4 * 2 * 9:,d} B"
    )


def cold_with_latency(server: Cmip6Server, tmp: Path, latency_s: float) -> None:
    """A cold point when every request costs a bucket's round trip: requests, not bytes, decide."""
    server.latency_s = latency_s
    try:
        server.reset()
        start = time.perf_counter()
        project_climate(SAHARA, "ssp245", 2050, settings_for(server, tmp / "cache-latency"), observed=OBSERVED)
        seconds = time.perf_counter() - start
    finally:
        server.latency_s = 0.0
    kinds: dict[str, int] = {}
    for request in server.requests:
        name = request.path.rsplit("/", 2)
        kind = name[-1] if name[-1].startswith(".") else "data chunk" if is_chunk(request.path) else name[-2]
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"\ncold point with {1000 * latency_s:.0f} ms per request: {len(server.requests)} requests, {seconds:.2f} s")
    print("  " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))


def region(server: Cmip6Server, tmp: Path, count: int) -> None:
    from distributed import LocalCluster

    points = region_points(count)
    rows = []
    settings = settings_for(server, tmp / "cache-loop")
    server.reset()
    start = time.perf_counter()
    for point in points:
        project_climate(point, "ssp245", 2050, settings, observed=OBSERVED)
    rows.append(("point path, one process", time.perf_counter() - start, len(server.requests)))

    server.reset()
    start = time.perf_counter()
    project_region(points, "ssp245", 2050, settings_for(server, tmp / "cache-threads"))
    rows.append(("dask graph, local threads", time.perf_counter() - start, len(server.requests)))

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        server.reset()
        start = time.perf_counter()
        on_cluster = settings_for(server, tmp / "cache-cluster", dask_scheduler=cluster.scheduler_address)
        project_region(points, "ssp245", 2050, on_cluster)
        rows.append(("dask cluster, 2 worker procs", time.perf_counter() - start, len(server.requests)))
    base = rows[0][1]
    print(f"\nregion of {len(points)} land points (ssp245, 2050), 3 models, cold cache each:")
    print(f"  {'':30}{'seconds':>9}{'points/s':>10}{'requests':>10}{'speed-up':>10}")
    for name, seconds, requests in rows:
        print(f"  {name:30}{seconds:9.1f}{len(points) / seconds:10.2f}{requests:10d}{base / seconds:9.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per-request delay of the cold-point run")
    parser.add_argument("--skip-region", action="store_true")
    parser.add_argument("--archive", type=Path, help="reuse an archive folder (written there if absent)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        archive = write_archive(args.archive or tmp / "archive")
        with Cmip6Server(archive.root) as server:
            per_point(server, tmp)
            cold_with_latency(server, tmp, args.latency_ms / 1000)
            if not args.skip_region:
                region(server, tmp, args.points)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
