"""`python -m core gapfill`: fill the cloudy pixels of a real scene with SD3 inpainting, or evaluate gap filling."""

from __future__ import annotations

import argparse
import json

from core.commands._common import point_from
from core.commands._generation_args import (
    TqdmProgress,
    add_model_arguments,
    check_sampling_arguments,
    load_engine,
    request_fields,
    sampling_from,
    spec_from,
)
from core.commands._prompt_context import add_context_arguments
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month

HELP = "fill the clouds of a real Sentinel-2 scene (mask from its SCL) with SD3 inpainting; or --evaluate DATA"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lat", type=float, help="latitude in decimal degrees")
    parser.add_argument("--lon", type=float, help="longitude in decimal degrees")
    parser.add_argument("--month", help="month of the scene to fill, YYYY-MM")
    add_context_arguments(parser)
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--steps", type=int, default=50, help="denoising steps (default 50)")
    parser.add_argument("--guidance", type=float, default=7.5, help="guidance scale (default 7.5)")
    parser.add_argument("--size", type=int, default=512, help="size in px (default 512, the footprint)")
    parser.add_argument("--out", help="filled PNG (the mask is written beside it as *.mask.png)")
    parser.add_argument(
        "--evaluate",
        metavar="DATA_DIR",
        help="instead: score gap filling on an EcoMapper dataset (clear scenes + real cloud masks from other "
        "scenes) against the nearest clear earlier month and the mean fill; with --model also SD3 inpainting",
    )
    parser.add_argument("--cases", type=int, default=12, help="--evaluate: number of cases (default 12)")


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from core.services.evaluate import evaluate_gap_filling

    engine = load_engine(args, settings) if args.model else None
    table, cases = evaluate_gap_filling(
        args.evaluate,
        engine,
        max_cases=args.cases,
        **sampling_from(args),
    )
    print(table)
    print()
    print("cases (truth <- mask of):", ", ".join(f"{c.name} <- {c.mask_source}" for c in cases))
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import limits

    # before any work: --size 99999 ended in "unexpected MemoryError (a bug...)" (issue 26)
    check_sampling_arguments(args)
    limits.GAPFILL_CASES.check("--cases", args.cases)
    if args.evaluate:
        return _evaluate(args, settings)
    from core.services import GenerationRequest
    from core.services.gapfill import fill_scene_clouds, write_filled_scene

    missing = [name for name in ("lat", "lon", "month", "out", "model") if getattr(args, name) is None]
    if missing:
        raise BadRequestError(
            f"Missing {', '.join('--' + m for m in missing)}.",
            "Give --lat, --lon, --month, --model and --out (or --evaluate DATA_DIR).",
        )
    from core.io.outputs import check_output_file

    out = check_output_file(args.out, "--out", (".png",))  # before the scene is fetched and the model loads
    spec = spec_from(args)
    point, month = point_from(args), Month.parse(args.month)
    request = GenerationRequest(**request_fields(args, settings, point, month), model=spec)
    engine = load_engine(args, settings, spec)
    progress = TqdmProgress("filling clouds")
    try:
        filled = fill_scene_clouds(request, engine, settings)
    finally:
        progress.close()
    summary = {
        "written": write_filled_scene(filled, out),
        "scene_id": filled.scene_id,
        "filled_fraction": round(filled.filled_fraction, 4),
        "model": filled.model_id,
        "warnings": list(filled.warnings),
    }
    print(json.dumps(summary, indent=2))
    return 0
