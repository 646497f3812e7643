"""`python -m core compare`: today vs a scenario at one place and month, from one seed, scored against
the real image (the app's "today vs scenario" view, on the service layer)."""

from __future__ import annotations

import argparse

from core.commands._common import add_out_argument, print_result, written_files
from core.commands._generation_args import (
    TqdmProgress,
    add_mode_arguments,
    add_model_arguments,
    add_request_arguments,
    add_sampling_arguments,
    load_engine,
    spec_from,
)
from core.config import Settings

HELP = "generate today and a scenario from one seed and score both against the real image (SSIM, PSNR, ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_request_arguments(
        parser,
        control_image_help="ControlNet: an RGB image of --size x --size px",
        control_month_help="ControlNet: the real image of this earlier month",
    )
    add_model_arguments(parser)
    add_sampling_arguments(parser)
    add_mode_arguments(parser)
    add_out_argument(parser, "folder for today.png, scenario.png, real.png and their recipes", "--out-dir")
    parser.add_argument("--label", action="store_true", help="draw the AI-generated label band under the images")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.commands.generate import request_from_args
    from core.io.outputs import check_output_dir
    from core.services import compare, export_image, write_real_png

    check_output_dir(args.out, "--out")  # before any look-up or step
    spec = spec_from(args)  # a missing --model fails before any look-up
    request = request_from_args(args, settings, spec)
    engine = load_engine(args, settings, spec)
    progress = TqdmProgress("comparing")
    try:
        seen = compare(request, settings, engine=engine, progress=progress)
    finally:
        progress.close()
    out = args.out
    files = {}
    for name, result in (("today", seen.today), ("scenario", seen.scenario)):
        exported = export_image(
            result, out / f"{name}.png", recipe=out / f"{name}.recipe.json", labelled=args.label, settings=settings
        )
        files.update({f"{name}_{kind}": path for kind, path in exported.as_dict().items()})
    real = write_real_png(seen.real, out / "real.png") if seen.real is not None else None
    summary = {
        "written": written_files(**files, real_png=real),
        "scenario": request.scenario.label,
        "labels": {"today": seen.today.label, "scenario": seen.scenario.label},
        "metrics": seen.values,
        "real_problem": seen.real_problem,
        "how_to_read": seen.how_to_read,
        "difference_today_vs_scenario": round(seen.difference, 3),
        "greenness": seen.greenness,
    }
    print_result(summary)
    return 0
