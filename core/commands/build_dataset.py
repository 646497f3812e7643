"""`python -m core build-dataset`: Sentinel-2 + NASA POWER + land cover + place names in the EcoMapper layout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings
from core.errors import BadRequestError

if TYPE_CHECKING:
    from core.dataset.builder import BuildResult

HELP = "build an EcoMapper-layout dataset (images + climate metadata) for given or sampled places and months"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--locations", type=Path, help="CSV with lat, lon [, location_id, land_cover]")
    where.add_argument("--sample", type=int, metavar="N", help="sample N land points stratified by land cover")
    parser.add_argument("--bbox", help="with --sample: min_lon,min_lat,max_lon,max_lat (default: all land 56S-72N)")
    parser.add_argument("--seed", type=int, default=0, help="with --sample: random seed (default 0)")
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder (existing months are skipped)")
    parser.add_argument("--max-workers", type=int, default=4, help="parallel fetches at most (default 4)")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels (default 512, as EcoMapper)")
    parser.add_argument(
        "--scheduler",
        help="dask cluster: tcp://host:8786 (running `dask scheduler`), local:N (N worker processes here); "
        "default ECOMAPPER_DASK_SCHEDULER, empty = this process (see docs/scaling.md)",
    )


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError as err:
        raise BadRequestError(
            f"--bbox {text!r} is not four numbers.", "Write min_lon,min_lat,max_lon,max_lat."
        ) from err
    if len(values) != 4:
        raise BadRequestError(f"--bbox {text!r} is not four numbers.", "Write min_lon,min_lat,max_lon,max_lat.")
    return values  # type: ignore[return-value]


def _progress_printer():
    """A progress line on stderr as the cluster finishes location-months (a long build shows it moves)."""
    from tqdm import tqdm

    bar = None

    def report(done: int, total: int, message: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="month", desc="build-dataset", file=sys.stderr)
        bar.set_postfix_str(message, refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import limits
    from core.geo import month_range
    from core.io.dask_cluster import check_scheduler
    from core.io.outputs import check_free_disk, check_output_dir, estimated_png_bytes
    from core.services.datasets import build_dataset, dataset_places

    # every number and the output folder before any fetch
    limits.DATASET_SIZE_PX.check("--size", args.size)
    limits.MAX_WORKERS.check("--max-workers", args.max_workers)
    limits.DATA_SEED.check("--seed", args.seed)
    if args.sample is not None:
        limits.SAMPLE_LOCATIONS.check("--sample", args.sample)
    scheduler = check_scheduler(
        settings.dask_scheduler if args.scheduler is None else args.scheduler,
        "--scheduler" if args.scheduler is not None else "ECOMAPPER_DASK_SCHEDULER",
    )
    check_output_dir(args.out, "--out")
    months = month_range(args.start, args.end)
    limits.DATASET_MONTHS.check("months from --start to --end", len(months))
    for month in months:
        month.ensure_not_future()
    locations = dataset_places(
        settings,
        locations_csv=args.locations,
        sample=args.sample,
        seed=args.seed,
        bbox=_parse_bbox(args.bbox) if args.bbox else None,
        max_workers=args.max_workers,
    )
    limits.DATASET_ITEMS.check("locations x months", len(locations) * len(months))
    check_free_disk(args.out, estimated_png_bytes(args.size, len(locations) * len(months)), "--out")
    result = build_dataset(
        locations,
        months,
        args.out,
        settings,
        max_workers=args.max_workers,
        size_px=args.size,
        scheduler=scheduler,
        progress=_progress_printer(),
    )
    return _report(result, f"{len(locations)} locations x {len(months)} months")


def _report(result: BuildResult, extent: str) -> int:
    """Print what the build did, its failures by kind, and the exit code.

    A month with no usable Sentinel-2 scene is what the sky gave, not a fault: a build whose only failures are
    such months exits 0 (they are listed). Any other failure, or a build that leaves the dataset empty, exits 1
    so that a script notices (issue 26).
    """
    counts = result.failure_counts()
    kinds = ": " + ", ".join(f"{count} {kind}" for kind, count in counts.items()) if counts else ""
    print(
        f"{len(result.written)} written, {result.skipped_existing} already there, {len(result.failures)} failed{kinds} "
        f"({extent}) in {result.out_dir}"
    )
    if not result.failures:
        return 0
    print(f"failures: {result.failures_path}")
    errors = len(result.errors)
    for failure in [*result.errors, *(f for f in result.failures if f not in result.errors)][:5]:  # errors first
        print(f"  {failure.location_id} {failure.month} [{failure.stage}, {failure.kind}] {failure.error}")
    if not errors and (result.written or result.skipped_existing):
        return 0
    if errors:
        what = "nothing was written:" if not result.written else f"{len(result.written)} written, but"
        problem = f"{what} {errors} location-months failed with an error"
        if errors < len(result.failures):
            problem += f" (and {len(result.failures) - errors} have no usable Sentinel-2 scene)"
        fix = "run the same command again to retry them (written months are kept)"
    else:
        failed = len(result.failures)
        problem = f"nothing was written: none of the {failed} location-months has a usable Sentinel-2 scene"
        fix = "pick other months or places"
    print(f"error: {problem}. See {result.failures_path}; {fix}.", file=sys.stderr)
    return 1
