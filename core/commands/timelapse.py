"""`python -m core timelapse`: one generated frame per month, written as a captioned GIF or MP4.

Runs on the service layer (`core.services.timelapse`), as the app does.
"""

from __future__ import annotations

import argparse
import json

from core.commands import _generation_args as gen_args
from core.commands._common import add_point_arguments, point_from
from core.commands._prompt_context import add_context_arguments, explicit_climate
from core.config import Settings
from core.geo import Month, month_range

HELP = "generate one image per month (observed or changed climate) and write a captioned GIF or MP4"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    gen_args.add_scenario_arguments(parser, precip_scale=True)
    add_context_arguments(parser)
    parser.add_argument(
        "--chain",
        choices=("independent", "controlnet"),
        default="independent",
        help="independent frames sharing the seed, or ControlNet chained from a real image",
    )
    control = parser.add_mutually_exclusive_group()
    control.add_argument("--control-image", metavar="PATH", help="first frame's control image (chain controlnet)")
    control.add_argument(
        "--control-month", metavar="YYYY-MM", help="real image conditioning the first frame (default: start - 1)"
    )
    parser.add_argument("--side-by-side", action="store_true", help="show the real image of each month on the left")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="frames per pipeline call (default: as many as fit in memory)"
    )
    parser.add_argument("--fps", type=float, default=2.0, help="frames per second (default 2)")
    parser.add_argument("--frames-dir", help="also save every frame as a PNG with metadata here")
    gen_args.add_model_arguments(parser)
    gen_args.add_sampling_arguments(parser)
    gen_args.add_mode_arguments(parser)
    parser.add_argument("--out", required=True, help="output .gif or .mp4")


def request_from_args(args: argparse.Namespace, settings: Settings, spec):
    """The service request the arguments describe (the climate of every month: --temp... or NASA POWER)."""
    from core.services import GenerationRequest, TimelapseRequest

    point = point_from(args)
    months = month_range(args.start, args.end)
    fixed = explicit_climate(args)
    fields = gen_args.request_fields(args, settings, point, months[0], observed_climate=False)
    modes = gen_args.mode_fields(args, bool(args.control_image or args.control_month))
    mode = "controlnet" if args.chain == "controlnet" else modes["mode"]
    controlnet = mode in ("controlnet", "img2img")  # conditioned on / starting from a real image
    base = GenerationRequest(
        **fields,
        **{**modes, "mode": mode},
        control_image=gen_args.read_control_image(args.control_image, args.size) if args.control_image else None,
        # ControlNet: the month before the series; img2img: None = the first month's own image
        control_month=(
            Month.parse(args.control_month) if args.control_month else (months[0] - 1 if mode == "controlnet" else None)
        )
        if controlnet and not args.control_image
        else None,
        controlnet_conditioning_scale=gen_args.controlnet_scale_from(args, spec),
        model=spec,
    )
    return TimelapseRequest(
        base=base,
        start=months[0],
        end=months[-1],
        scenario=gen_args.scenario_from(args),
        climates=tuple((m, fixed) for m in months) if fixed is not None else None,
        chain=args.chain,
        side_by_side=args.side_by_side,
        fps=args.fps,
        batch_size=args.batch_size,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import limits
    from core.commands._generation_args import check_sampling_arguments
    from core.io.outputs import check_free_disk, check_output_dir, check_output_file, estimated_png_bytes
    from core.services import make_timelapse
    from core.services.timelapse import FORMATS

    # Every number and output is checked before any frame is made (a bad --fps used to fail at the end).
    check_sampling_arguments(args)
    limits.FRAMES_PER_SECOND.check("--fps", args.fps)
    if args.batch_size is not None:  # None: the engine picks it
        limits.TIMELAPSE_BATCH.check("--batch-size", args.batch_size)
    limits.TEMP_DELTA_C.check("--temp-delta", args.temp_delta)
    if getattr(args, "precip_scale", None) is not None:
        limits.PRECIP_SCALE.check("--precip-scale", args.precip_scale)
    out = check_output_file(args.out, "--out", tuple(sorted(FORMATS)))
    if args.frames_dir:
        check_output_dir(args.frames_dir, "--frames-dir")
    months = month_range(args.start, args.end)
    limits.TIMELAPSE_MONTHS.check("number of months (--start..--end)", len(months))
    frames = len(months) * (2 if args.frames_dir else 1) * (2 if args.side_by_side else 1)
    check_free_disk(out.parent, estimated_png_bytes(args.size, frames), "--out")
    spec = gen_args.spec_from(args)  # a missing --model fails before any look-up
    request = request_from_args(args, settings, spec)
    engine = gen_args.load_engine(args, settings, spec)
    progress = gen_args.TqdmProgress("time-lapse")
    try:
        result = make_timelapse(request, out, settings, engine=engine, frames_dir=args.frames_dir, progress=progress)
    finally:
        progress.close()
    written = {"animation": str(result.path)}
    if result.frames_dir is not None:
        written["frames_dir"] = str(result.frames_dir)
    summary = {
        "written": written,
        "frames": len(result.series.frames),
        "months": [str(m) for m in result.months],
        "model": result.series.frames[0].model_id,
        "chain": request.chain,
        "scenario": request.scenario.label,
        "captions": result.captions,
        "text_encoder_calls": result.series.encode_calls,
        "timings_s": {k: round(v, 3) for k, v in result.series.timings_s.items()},
        "missing_real_images": result.real_problems,
        "warnings": list(dict.fromkeys(w for frame in result.series.frames for w in frame.warnings)),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
