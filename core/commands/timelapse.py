"""`python -m core timelapse`: one generated frame per month, written as a captioned GIF or MP4."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from core.commands._common import add_point_arguments, point_from
from core.commands._generation_args import (
    TqdmProgress,
    add_model_arguments,
    add_sampling_arguments,
    controlnet_scale_from,
    load_engine,
    mode_from,
    read_control_image,
)
from core.commands._prompt_context import (
    add_context_arguments,
    explicit_climate,
    resolve_land_cover,
    resolve_place,
)
from core.config import Settings
from core.errors import BadRequestError, NoImageryError
from core.geo import Month, month_range

HELP = "generate one image per month (observed or changed climate) and write a captioned GIF or MP4"
log = logging.getLogger(__name__)


def _default_control_month(mode: str, months):
    """ControlNet: the month before the series; img2img: None (each run starts from the first month's image)."""
    return months[0] - 1 if mode == "controlnet" else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--temp-delta", type=float, default=0.0, help="°C added to every month (default 0)")
    parser.add_argument("--precip-scale", type=float, default=1.0, help="precipitation factor (default 1)")
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
    parser.add_argument("--batch-size", type=int, default=1, help="frames per pipeline call (GPU; default 1)")
    parser.add_argument("--fps", type=float, default=2.0, help="frames per second (default 2)")
    parser.add_argument("--frames-dir", help="also save every frame as a PNG with metadata here")
    add_model_arguments(parser)
    add_sampling_arguments(parser)
    parser.add_argument("--out", required=True, help="output .gif or .mp4")


def _real_images(point, months: list[Month], size_px: int, settings: Settings) -> list:
    from core.generate import fetch_control_image

    images = []
    for month in months:
        try:
            images.append(fetch_control_image(point, month, size_px, settings)[0])
        except NoImageryError as err:
            log.warning("no real image for %s: %s", month, err)
            images.append(None)
    return images


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.export import result_metadata, write_png
    from core.generate import GenerationRequest, TimeSeriesRequest, generate_time_series, observed_climates
    from core.timelapse import FORMATS, caption_for, write_timelapse

    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        raise BadRequestError(f"--out {out.name!r} is neither .gif nor .mp4.", "Name the output *.gif or *.mp4.")
    from core.commands._generation_args import spec_from

    spec = spec_from(args)  # a missing --model fails before any look-up
    point = point_from(args)
    months = month_range(args.start, args.end)
    state, country = resolve_place(args, point)
    fixed = explicit_climate(args)
    climates = (
        {m: fixed for m in months} if fixed is not None else observed_climates(point, months[0], months[-1], settings)
    )
    mode = (
        "controlnet" if args.chain == "controlnet" else mode_from(args, bool(args.control_image or args.control_month))
    )
    controlnet = mode in ("controlnet", "img2img")
    base = GenerationRequest(
        point=point,
        month=months[0],
        land_cover=resolve_land_cover(args, point, settings),
        cloud_fraction=args.cloud,
        seed=args.seed,
        num_inference_steps=args.steps,
        guidance_scale=args.guidance,
        size_px=args.size,
        mode=mode,
        control_image=read_control_image(args.control_image, args.size) if args.control_image else None,
        control_month=(Month.parse(args.control_month) if args.control_month else _default_control_month(mode, months))
        if controlnet and not args.control_image
        else None,
        controlnet_conditioning_scale=controlnet_scale_from(args, spec),
        strength=args.strength,
        state=state,
        country=country,
        word_mode=args.words,
    )
    series = TimeSeriesRequest(
        base=base,
        start=months[0],
        end=months[-1],
        temp_delta_c=args.temp_delta,
        precip_scale=args.precip_scale,
        climates=tuple(climates.items()),
        chain=args.chain,
        batch_size=args.batch_size,
    )
    reals = _real_images(point, months, args.size, settings) if args.side_by_side else None
    engine = load_engine(args, settings, spec)
    progress = TqdmProgress("time-lapse")
    try:
        result = generate_time_series(series, engine, settings, progress=progress)
    finally:
        progress.close()
    label = "tiny-random: noise" if engine.loaded.is_tiny else ""
    captions = [caption_for(m, c, label) for m, c in zip(result.months, result.climates, strict=True)]
    written = {"animation": str(write_timelapse(result.images, captions, out, fps=args.fps, side_by_side=reals))}
    if args.frames_dir:
        for frame in result.frames:
            write_png(frame.image, Path(args.frames_dir) / f"{frame.request.month}.png", result_metadata(frame))
        written["frames_dir"] = args.frames_dir
    summary = {
        "written": written,
        "frames": len(result.frames),
        "months": [str(m) for m in result.months],
        "model": engine.model_id,
        "chain": series.chain,
        "text_encoder_calls": result.encode_calls,
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "warnings": list(engine.loaded.warnings),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
