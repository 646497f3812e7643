"""`python -m core experiment extremes|future`: the EcoMapper paper's extreme-climate grid and future-climate runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._generation_args import (
    add_model_arguments,
    add_paper_argument,
    apply_paper_model_conventions,
    sampling_from,
    spec_from,
)
from core.config import Settings

HELP = "the paper's experiments: extremes (absolute climate grid, fixed latents) and future (2050/2075/2100)"


def _csv_list(text: str | None) -> tuple[str, ...] | None:
    return tuple(part.strip() for part in text.split(";") if part.strip()) if text else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="experiment", required=True, metavar="{extremes,future}")
    extremes = sub.add_parser("extremes", help="(T, P, R) = (-10, 0, 1), (20, 20, 10), (40, 50, 30) at 1024 px")
    add_model_arguments(extremes)
    add_paper_argument(extremes)
    extremes.add_argument("--out", required=True, type=Path, help="output folder")
    extremes.add_argument("--seeds", default="333,666,999", help="comma-separated seeds (paper: 333,666,999)")
    extremes.add_argument("--locations", help='";"-separated locations (default: the paper\'s 8)')
    extremes.add_argument("--land-covers", help='";"-separated land covers (default: the paper\'s 8)')
    extremes.add_argument("--months", help='";"-separated month names (default: January;July;December;March;August)')
    extremes.add_argument("--grid", default="diagonal", choices=("diagonal", "radiation", "full"))
    extremes.add_argument("--drop-month", action="store_true", help="the month-dropped variant")
    extremes.add_argument("--drop-location", action="store_true", help="the location-dropped variant")
    extremes.add_argument("--words", action="store_true", help="word mode")
    extremes.add_argument("--size", type=int, default=1024, help="px (paper: 1024)")
    extremes.add_argument("--steps", type=int, default=50)
    extremes.add_argument("--guidance", type=float, default=7.5)

    future = sub.add_parser("future", help="captions for 2050/2075/2100 from projected climate per location")
    add_model_arguments(future)
    add_paper_argument(future)
    future.add_argument("--csv", required=True, type=Path, help="rows with 2050_temp, 2050_pr, 2050_rsds, ...")
    future.add_argument("--data", type=Path, help="dataset root: control images at <data>/<location_id>/<img_path>")
    future.add_argument("--out", required=True, type=Path, help="output folder")
    future.add_argument("--years", default="2050,2075,2100", help="comma-separated years")
    future.add_argument("--seed", type=int, default=7777)
    future.add_argument("--size", type=int, default=512)
    future.add_argument("--steps", type=int, default=50)
    future.add_argument("--guidance", type=float, default=7.5)
    future.add_argument("--text-only", action="store_true", help="text-to-image even when a ControlNet is loaded")
    future.add_argument(
        "--ssp",
        help="fill the CSV's {year}_temp/_pr/_rsds from CMIP6 under this SSP first (needs latitude, longitude); "
        "the filled CSV is written beside --out",
    )


def _integers(text: str, what: str) -> tuple[int, ...]:
    from core.errors import BadRequestError

    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as err:
        raise BadRequestError(f"--{what} {text!r} is not a list of integers.", f"Write e.g. --{what} 1,2,3.") from err


def _extremes_request(args: argparse.Namespace):
    from core.services import experiments

    defaults = experiments.ExtremesRequest(out_dir=args.out)
    return experiments.ExtremesRequest(
        out_dir=args.out,
        seeds=_integers(args.seeds, "seeds"),
        locations=_csv_list(args.locations) or defaults.locations,
        land_covers=_csv_list(args.land_covers) or defaults.land_covers,
        months=_csv_list(args.months) or defaults.months,
        grid=args.grid,
        size_px=args.size,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        word_mode=args.words,
        drop_month=args.drop_month,
        drop_location=args.drop_location,
    )


def _run_extremes(args: argparse.Namespace, settings: Settings) -> int:
    from core.commands._generation_args import TqdmProgress
    from core.services import experiments

    request = _extremes_request(args)  # every input checked before the model loads
    loaded = experiments.load_experiment_model(spec_from(args), settings, hf_cache_dir=args.hf_cache_dir)
    result = experiments.run_extremes(loaded, request, progress=TqdmProgress("extremes"))
    for path in result.figures:
        print(path)
    print(f"{len(result.figures)} figures, {len(result.images)} images under {args.out}")
    return 0


def _run_future(args: argparse.Namespace, settings: Settings) -> int:
    from core.commands._generation_args import TqdmProgress, check_sampling_arguments
    from core.services import experiments

    check_sampling_arguments(args)
    years = _integers(args.years, "years")
    rows = experiments.read_future_rows(args.csv, args.data, years, args.seed)  # ids and counts before any work
    if args.ssp:
        csv_path = experiments.project_future_csv(
            args.csv, Path(args.out) / f"projected_{args.ssp}.csv", args.ssp, settings, years,
            progress=TqdmProgress("CMIP6 projections"),
        )  # fmt: skip
        print(f"projected climate ({args.ssp}) written to {csv_path}")
        rows = experiments.read_future_rows(csv_path, args.data, years, args.seed)
    loaded = experiments.load_experiment_model(spec_from(args), settings, hf_cache_dir=args.hf_cache_dir)
    result, mode = experiments.run_future(
        loaded,
        rows,
        args.out,
        text_only=args.text_only,
        years=years,
        **sampling_from(args),
        progress=TqdmProgress("future"),
    )
    for path in result.images:
        print(path)
    print(f"{len(result.images)} images ({mode}) under {args.out}")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    apply_paper_model_conventions(args)
    if args.experiment == "extremes":
        return _run_extremes(args, settings)
    return _run_future(args, settings)
