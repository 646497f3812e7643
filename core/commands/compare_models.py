"""`python -m core compare-models`: one place and month from every available generator, beside the real image."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from core.commands._common import add_point_arguments, point_from
from core.commands._generation_args import add_scenario_arguments, scenario_from
from core.commands._prompt_context import add_context_arguments, resolve_climate, resolve_land_cover, resolve_place
from core.config import Settings
from core.errors import EcoMapperError
from core.geo import Month

log = logging.getLogger(__name__)

HELP = "generate one place and month with every available generator (SD3, DiffusionSat, GeoSynth, ...) on one sheet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--month", required=True, help="month to generate, YYYY-MM")
    add_context_arguments(parser)
    add_scenario_arguments(parser)
    parser.add_argument(
        "--models",
        help="comma-separated backend ids (default: every real backend; missing weights are listed with how to get "
        "them). DiffusionSat is fed a 10 m GSD for the Sentinel-2 footprint, coarser than its training imagery.",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="use the tiny random variant of every family (noise; for smoke runs)"
    )
    parser.add_argument("--real-image", type=Path, help="the real image to compare with (default: fetch Sentinel-2)")
    parser.add_argument("--no-real", action="store_true", help="do not fetch the real image (no metrics)")
    parser.add_argument("--seed", type=int, default=0, help="seed shared by every backend")
    parser.add_argument("--steps", type=int, help="denoising steps (default: each backend's own)")
    parser.add_argument("--out", required=True, type=Path, help="the sheet, a PNG")
    parser.add_argument("--json", type=Path, help="also write the metrics and notes as JSON")


def _observed_climate(args: argparse.Namespace, point, month, settings: Settings):
    """--temp/--precip/--rad, else NASA POWER; without either the comparison runs without a climate."""
    try:
        return resolve_climate(args, point, month, settings)
    except EcoMapperError as err:
        if any(getattr(args, name) is not None for name in ("temp", "precip", "rad")):
            raise
        log.warning("No observed climate (%s); comparing without one.", err.problem)
        return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.io.outputs import check_output_file
    from core.services import GenerationRequest, ModelSpec, generator_ids
    from core.services.compare_models import compare_models, write_comparison_sheet

    # before any look-up or step; the sheet is a PNG (a .jpg name once received PNG bytes)
    check_output_file(args.out, "--out", (".png",))
    if args.json:
        check_output_file(args.json, "--json", (".json",))
    point = point_from(args)
    month = Month.parse(args.month)
    state, country = resolve_place(args, point, settings)
    if args.models:
        ids = [m.strip() for m in args.models.split(",") if m.strip()]
    else:
        ids = generator_ids(tiny=args.tiny)
    real = None
    if args.real_image:
        from core.services import read_rgb_image

        real = read_rgb_image(args.real_image, "real image")
    ids = [i for i in ids if i]
    request = GenerationRequest(
        point=point,
        month=month,
        land_cover=resolve_land_cover(args, point, settings),
        cloud_fraction=args.cloud,
        observed_climate=_observed_climate(args, point, month, settings),
        scenario=scenario_from(args),
        seed=args.seed,
        num_inference_steps=args.steps,
        guidance_scale=None,  # each generator's own
        state=state,
        country=country,
        model=ModelSpec(ids[0]) if ids else None,
    )
    comparison = compare_models(request, settings, ids, real_image=real, fetch_real=not args.no_real)
    path = write_comparison_sheet(comparison, args.out)
    for item in comparison.images:
        metrics = "  ".join(f"{k} {v:g}" for k, v in item.metrics.items())
        print(f"{item.backend_id:<26} {item.seconds:>7.2f} s  {metrics}")
    for backend_id, how in comparison.unavailable:
        print(f"{backend_id:<26} not available: {how}")
    for backend_id, message in comparison.failed:
        print(f"{backend_id:<26} failed: {message}")
    print(f"sheet: {path}")
    if args.json:
        from core.io.files import atomic_write_json

        atomic_write_json(
            args.json,
            {
                "real": comparison.real_note,
                "scenario": comparison.request.scenario.label,
                "climate": comparison.request.climate.as_dict() if comparison.request.climate else None,
                "images": [
                    {"backend": i.backend_id, "metrics": i.metrics, "seconds": i.seconds, "prompt": i.prompt,
                     "ignored": list(i.ignored), "warnings": list(i.warnings),
                     "conditioning": json.loads(json.dumps(i.conditioning, default=str))}
                    for i in comparison.images
                ],
                "unavailable": dict(comparison.unavailable),
                "failed": dict(comparison.failed),
            },
        )  # fmt: skip
    if not comparison.images:
        return 2
    # some generators ran, some that were present failed: the sheet is written, the run is not a success
    return 1 if comparison.failed else 0
