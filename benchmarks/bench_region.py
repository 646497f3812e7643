"""Regions: peak memory of a 10.24 x 10.24 km region (9 tiles) against one footprint, and the seam statistic,
for MetaEarth and MultiDiffusion (and butt-joined independent tiles for context), with tiny-random.

Each memory variant runs in its own process (fresh resident set): the engine is loaded and warmed up
first, then the peak RSS growth of the run itself is sampled every 5 ms. The seam statistic is
`core.generation.tiling.seam_statistic`: mean absolute difference of neighbouring pixels across tile
borders / inside tiles (1 = no visible seam). tiny-random draws noise, so its seam ratios say how the
joins behave on noise, not how SD3's landscapes join; real weights need a GPU (not measured here).

    .venv/bin/python -m benchmarks.bench_region [--size 64] [--steps 4] [--repeat 2]

`--workers 1,2`: instead, the speed-up of a MetaEarth region made by dask workers (`make_region(...,
scheduler="local:N")`) against the same region in this process, every process at one torch thread
(dask's workers start with OMP_NUM_THREADS=1). Wall time from the call to the canvas, so a cluster's
start and each worker's model load are included; the tiles' own seconds are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

VARIANTS = ("footprint", "metaearth", "multidiffusion", "mixture")
REGION_KM = 10.24


def _engine_and_request(size_px: int, steps: int):
    from core.config import Settings
    from core.models.engine import Engine
    from core.models.spec import ModelSpec
    from tests.support.tiny_generation import tiny_generation_request

    engine = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    request = tiny_generation_request(size_px=size_px, num_inference_steps=steps)
    return engine, request


def _run(variant: str, engine, request, seed: int = 0):
    """One variant's image (uint8) and its windows (None for the single footprint)."""
    from core.generation.compositions import Region
    from core.models.engine import FrameJob
    from core.models.region_sampler import RegionCanvas, run_region

    job = FrameJob(request.prompts(), seed)
    sampling = dict(num_inference_steps=request.num_inference_steps, guidance_scale=request.guidance_scale)
    if variant == "footprint":
        images, _ = engine.run_frames([job], mode="text", size_px=request.size_px, **sampling)
        return images[0], None
    region = Region(request, REGION_KM, REGION_KM, method=variant if variant in VARIANTS else "metaearth")
    windows = region.windows()
    if variant == "butt-joined":
        return _butt_joined(engine, request, region, seed), windows
    canvas = RegionCanvas(region.height_px, region.width_px, tuple(windows), region.tile_px)
    image, _ = run_region(engine, [job] * len(windows), canvas, method=variant, mode="text", seed=seed, **sampling)
    return image, windows


def _butt_joined(engine, request, region, seed: int) -> np.ndarray:
    """Independent tiles, each with its own seed, laid side by side (no overlap): the naive join."""
    from core.models.engine import FrameJob

    tile = region.tile_px
    rows, cols = -(-region.height_px // tile), -(-region.width_px // tile)
    jobs = [FrameJob(request.prompts(), seed + i) for i in range(rows * cols)]
    images, _ = engine.run_frames(jobs, mode="text", size_px=tile, num_inference_steps=request.num_inference_steps,
                                  guidance_scale=request.guidance_scale)  # fmt: skip
    canvas = np.zeros((rows * tile, cols * tile, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = image
    return canvas[: region.height_px, : region.width_px]


def _measure_one(variant: str, size_px: int, steps: int) -> dict:
    """In this process: warm up, then the peak RSS growth of one run of `variant`."""
    from benchmarks.bench_real_architecture import PeakRss

    engine, request = _engine_and_request(size_px, steps)
    _run("footprint", engine, request, seed=99)  # warm-up: allocator, kernels, prompt embeddings
    with PeakRss() as rss:
        image, windows = _run(variant, engine, request)
    return {"variant": variant, "growth_bytes": rss.growth, "peak_bytes": rss.peak, "shape": list(image.shape),
            "tiles": len(windows) if windows else 1}  # fmt: skip


def _memory_rows(size_px: int, steps: int, repeat: int) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for _ in range(repeat):
        for variant in VARIANTS:  # interleaved
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_region", "--one", variant, "--size", str(size_px),
                 "--steps", str(steps)],
                capture_output=True, text=True, check=True, env={**os.environ},
            )  # fmt: skip
            rows[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def _print_speed_up(size_px: int, steps: int, worker_counts: list[int]) -> None:
    """Wall seconds of one MetaEarth region here and on local:N clusters, side by side."""
    import time

    import torch

    from core.config import Settings
    from core.models.spec import ModelSpec
    from core.services import Region, make_region

    torch.set_num_threads(1)  # as each dask worker
    engine, request = _engine_and_request(size_px, steps)
    region = Region(request.replace(model=ModelSpec("tiny-random")), REGION_KM, REGION_KM, per_tile=False)
    settings = Settings.from_env()
    make_region(region, settings, engine=engine, with_real=False)  # warm-up: kernels, prompt embeddings
    rows = []
    for label, scheduler in [("this process", ""), *[(f"local:{n}", f"local:{n}") for n in worker_counts]]:
        started = time.perf_counter()
        result = make_region(region, settings, engine=None if scheduler else engine, with_real=False,
                             scheduler=scheduler)  # fmt: skip
        rows.append((label, time.perf_counter() - started, result.run.timings_s.get("denoise_s", 0.0)))
    base = rows[0][1]
    tiles = len(region.windows())
    print(f"MetaEarth region {REGION_KM} x {REGION_KM} km, {tiles} tiles of {size_px} px, {steps} steps, tiny-random,"
          " 1 torch thread per process (wall includes cluster start and model loads):")  # fmt: skip
    print(f"{'where':<16}{'wall s':>8}{'tiles s (sum)':>15}{'speed-up':>10}")
    for label, wall, tiles in rows:
        print(f"{label:<16}{wall:>8.2f}{tiles:>15.2f}{base / wall:>9.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="tile size in px (default 64: 80 m pixels)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--workers", help="comma-separated worker counts: print the dask speed-up table only")
    args = parser.parse_args(argv)
    if args.workers:
        _print_speed_up(args.size, args.steps, [int(n) for n in args.workers.split(",")])
        return 0
    if args.one:
        print(json.dumps(_measure_one(args.one, args.size, args.steps)))
        return 0
    from core.generation.tiling import seam_statistic

    mib = 1024 * 1024
    rows = _memory_rows(args.size, args.steps, args.repeat)
    base = min(r["peak_bytes"] for r in rows["footprint"])
    print(f"peak RSS, tiny-random, {args.size} px tiles, {args.steps} steps, {REGION_KM} x {REGION_KM} km region "
          f"(min of {args.repeat} runs, each in a fresh process after a warm-up):")  # fmt: skip
    print(f"{'variant':<16}{'tiles':>6}{'canvas px':>12}{'peak MiB':>10}{'growth MiB':>12}{'peak / footprint':>18}")
    for variant, measured in rows.items():
        peak = min(r["peak_bytes"] for r in measured)
        growth = min(r["growth_bytes"] for r in measured)
        shape = "x".join(str(v) for v in measured[0]["shape"][:2])
        print(f"{variant:<16}{measured[0]['tiles']:>6}{shape:>12}{peak / mib:>10.1f}{growth / mib:>12.1f}"
              f"{peak / base:>18.3f}")  # fmt: skip
    engine, request = _engine_and_request(args.size, args.steps)
    print("\nseam statistic (mean |difference| of neighbouring pixels across tile borders / inside tiles; 1 = none):")
    print(f"{'variant':<16}{'border MAD':>12}{'inside MAD':>12}{'ratio':>8}")
    for variant in ("butt-joined", "metaearth", "multidiffusion", "mixture"):
        image, windows = _run(variant, engine, request)
        if variant == "butt-joined":
            from core.generation.tiling import plan_windows

            windows = plan_windows(image.shape[0], image.shape[1], request.size_px, stride=request.size_px)
        stats = seam_statistic(image, windows)
        print(f"{variant:<16}{stats['border_mad']:>12.2f}{stats['inside_mad']:>12.2f}{stats['ratio']:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
