"""`python -m core build-dataset`: Sentinel-2 + NASA POWER + land cover + place names in the EcoMapper layout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.config import Settings
from core.errors import BadRequestError

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
    print(
        f"{len(result.written)} written, {result.skipped_existing} already there, {len(result.failures)} failed "
        f"({len(locations)} locations x {len(months)} months) in {result.out_dir}"
    )
    if result.failures:
        print(f"failures: {result.failures_path}")
        for failure in result.failures[:5]:
            print(f"  {failure.location_id} {failure.month} [{failure.stage}] {failure.error}")
    if result.failures:
        # a build that wrote nothing new, or only part of it, must not look like a success to a script (issue 26)
        failed = len(result.failures)
        what = "nothing was written: all" if not result.written else f"{len(result.written)} written, but"
        print(
            f"error: {what} {failed} location-months failed. See {result.failures_path}; "
            "run the same command again to retry them (written months are kept).",
            file=sys.stderr,
        )
        return 1
    return 0
