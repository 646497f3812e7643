"""`python -m core generate`: one climate-aware image of a place and month (PNG + recipe, optional GeoTIFF).

Runs on the service layer (`core.services.generate` and `.exports`), as the app does.
"""

from __future__ import annotations

import argparse
import json

from core.commands import _generation_args as gen_args
from core.commands._common import point_from
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month

# what the summary shows of an ensemble (the JSON beside OUT has it all)
ENSEMBLE_KEYS = ("samples", "mean_abs_change", "mean_spread", "mean_spread_scenario", "agreement",
                 "agreement_sentence", "greenness")  # fmt: skip
HELP = "generate a satellite image of a place and month under a climate (SD3 or SD3 ControlNet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--recipe", help="regenerate from a recipe JSON (place, month, sampling and, without --model, the model)"
    )
    gen_args.add_request_arguments(
        parser,
        control_image_help="ControlNet / img2img: an RGB image of --size x --size px",
        control_month_help="ControlNet / img2img: the real image of this earlier month",
    )
    gen_args.add_model_arguments(parser)
    gen_args.add_sampling_arguments(parser)
    gen_args.add_mode_arguments(parser)
    parser.add_argument("--out", required=True, help="output PNG (prompt, seed, model, climate in its metadata)")
    parser.add_argument("--recipe-out", help="recipe JSON to write (default: OUT with .recipe.json)")
    parser.add_argument("--geotiff", help="also write a GeoTIFF on the footprint's UTM grid (with the same tags)")
    parser.add_argument(
        "--label", action="store_true", help='draw the "AI-generated · place · month · scenario" band under the PNG'
    )
    parser.add_argument(
        "--samples",
        type=int,
        help="ensemble: N seeds (--seed, --seed+1, ...) of today and of the scenario; writes OUT (the first "
        "scenario sample) and beside it <stem>-change.png, <stem>-spread.png and <stem>-change.json",
    )


def request_from_args(args: argparse.Namespace, settings: Settings, spec):
    """The service request the arguments describe (`--temp/--precip/--rad` or NASA POWER = observed climate)."""
    from core.services import GenerationRequest

    missing = [name for name in ("lat", "lon", "month") if getattr(args, name) is None]
    if missing:
        raise BadRequestError(
            f"Missing {', '.join('--' + m for m in missing)}.", "Give --lat, --lon and --month (or --recipe FILE)."
        )
    modes = gen_args.mode_fields(args, bool(args.control_image or args.control_month))  # refused before any look-up
    fields = gen_args.request_fields(args, settings, point_from(args), Month.parse(args.month))
    return GenerationRequest(
        **fields,
        scenario=gen_args.scenario_from(args),
        **modes,
        control_image=gen_args.read_control_image(args.control_image, args.size) if args.control_image else None,
        control_month=Month.parse(args.control_month) if args.control_month else None,
        controlnet_conditioning_scale=gen_args.controlnet_scale_from(args, spec),
        model=spec,
        boxes=gen_args.boxes_from(args),
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.io.outputs import check_free_disk, check_output_file, estimated_png_bytes
    from core.limits import IMAGE_SIZE_PX
    from core.services import export_image, generate, recipe_request, run_ensemble, write_ensemble
    from core.services.ensemble import ensemble_requests

    # Every number and output is checked before any look-up or model load, so a mistake costs nothing.
    if args.recipe:
        gen_args.refuse_overrides_of_recipe(args)
    else:
        gen_args.check_sampling_arguments(args)
    out = check_output_file(args.out, "--out", (".png",))
    recipe_path = check_output_file(args.recipe_out or out.with_suffix(".recipe.json"), "--recipe-out", (".json",))
    if args.geotiff:
        check_output_file(args.geotiff, "--geotiff", (".tif", ".tiff"))
    size_px = IMAGE_SIZE_PX.high if args.recipe else args.size  # a recipe's size is read later
    check_free_disk(out.parent, estimated_png_bytes(size_px, 3 if args.geotiff else 2), "--out")
    if args.recipe:
        # the recipe's model unless --model says otherwise
        request = recipe_request(args.recipe, gen_args.spec_from(args) if args.model else None)
    else:
        request = request_from_args(args, settings, gen_args.spec_from(args))  # a missing --model fails before look-ups
    if args.samples is not None:
        ensemble_requests(request, args.samples)  # a bad count fails before the model loads
    engine = gen_args.load_engine(args, settings, request.model)
    progress = gen_args.TqdmProgress("generating")
    ensemble = None
    try:
        if args.samples is None:
            result = generate(request, settings, engine=engine, progress=progress)
        else:
            ensemble = run_ensemble(request, args.samples, settings, engine=engine, progress=progress)
            result = ensemble.scenario[0]
    finally:
        progress.close()
    written = export_image(
        result, out, recipe=recipe_path, geotiff=args.geotiff, labelled=args.label, settings=settings
    )
    summary = {
        "written": written.as_dict(),
        "prompts": result.prompts.as_dict(),
        "label": result.label,
        "seed": result.result.seed,
        "model": result.result.model_id,
        "size_px": result.request.size_px,
        "mode": result.request.mode,
        "observed_climate": result.provenance.as_dict()["observed_climate"],
        "scenario": result.request.scenario.label,
        "climate": result.provenance.as_dict()["final_climate"],
        "timings_s": {k: round(v, 3) for k, v in result.timings_s.items()},
        "warnings": list(result.warnings),
        "credentials": written.credentials,
    }
    if ensemble is not None:
        files = write_ensemble(ensemble, out)
        summary["written"].update({name: str(path) for name, path in files.items()})
        summary["ensemble"] = {key: ensemble.summary()[key] for key in ENSEMBLE_KEYS}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
