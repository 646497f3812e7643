"""`python -m core region`: a width x height km area around a point, generated in tiles and joined without seams
(MetaEarth or MultiDiffusion), written as a GeoTIFF on the centre's UTM grid + a labelled PNG + a recipe."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.climate.values import ClimateValues
from core.commands import _generation_args as gen_args
from core.commands._common import point_from
from core.commands._prompt_context import add_context_arguments
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month

# Only the region's shape is checked against it, before the real climate is looked up.
STAND_IN_CLIMATE = ClimateValues(15.0, 2.0, 18.0)
HELP = "generate a large area (several 5.12 km tiles, joined without seams) as one GeoTIFF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.services import REGION_DEFAULT_METHOD, REGION_METHODS

    parser.add_argument("--lat", type=float, help="latitude of the centre, decimal degrees")
    parser.add_argument("--lon", type=float, help="longitude of the centre, decimal degrees")
    parser.add_argument("--month", help="month to generate, YYYY-MM")
    parser.add_argument("--width-km", type=float, help="east-west size in km (e.g. 10.24)")
    parser.add_argument("--height-km", type=float, help="north-south size in km (e.g. 7.68)")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="regenerate a region from the recipe written beside its GeoTIFF (place, month, area, sampling and, "
        "without --model / --method, the model and method)",
    )
    parser.add_argument(
        "--method",
        choices=REGION_METHODS,
        help="metaearth: independent tiles from one shared noise, centre crops kept (memory of one tile; any mode "
        "and generator); multidiffusion: the tiles' velocities averaged at every step (SD3 text / ControlNet); "
        "mixture: the same with Gaussian weights, a tile's centre counting more than its edge (Mixture of Diffusers). "
        f"Default {REGION_DEFAULT_METHOD} (or the recipe's)",
    )
    add_context_arguments(parser)
    gen_args.add_scenario_arguments(parser)
    parser.add_argument(
        "--control-month", metavar="YYYY-MM", help="ControlNet / img2img: the real mosaic of this earlier month"
    )
    gen_args.add_model_arguments(parser)
    gen_args.add_sampling_arguments(parser)
    gen_args.add_mode_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, help="the region as a GeoTIFF (.tif)")
    parser.add_argument("--png", type=Path, help="labelled preview PNG (default: OUT with .png)")
    parser.add_argument("--recipe-out", type=Path, help="recipe JSON (default: OUT with .recipe.json)")
    parser.add_argument("--no-real", action="store_true", help="do not fetch the real mosaic of the month")
    parser.add_argument(
        "--scheduler",
        default="",
        help="make the MetaEarth tiles on a dask cluster: tcp://host:8786 (running `dask scheduler`) or local:N "
        "(N worker processes here); same image as in this process. MultiDiffusion stays in one process "
        "(docs/scaling.md)",
    )


def _region_from_args(args: argparse.Namespace, spec, fields: dict):
    """The region the flags describe, around a base made of `fields` (the looked-up request fields, or
    stand-ins when only the size, mode and place are being checked before any look-up)."""
    from core.services import REGION_DEFAULT_METHOD, GenerationRequest, Region

    base = GenerationRequest(
        **fields,
        scenario=gen_args.scenario_from(args),
        **gen_args.mode_fields(args, bool(args.control_month)),
        control_month=Month.parse(args.control_month) if args.control_month else None,
        controlnet_conditioning_scale=gen_args.controlnet_scale_from(args, spec),
        model=spec,
    )
    # names and land cover given by hand hold for every tile; otherwise each tile looks up its own
    per_tile = not (args.land_cover or args.country)
    return Region(base, args.width_km, args.height_km, method=args.method or REGION_DEFAULT_METHOD, per_tile=per_tile)


# what a recipe fixes: given with --recipe, these are refused rather than silently ignored
RECIPE_FIXED = ("lat", "lon", "month", "width_km", "height_km")


def _region_from_flags(args: argparse.Namespace, settings: Settings, scheduler: str, out: Path):
    """The region of --lat/--lon/--month/--width-km/--height-km, its shape checked before any look-up."""
    from core.io.outputs import check_free_disk, estimated_png_bytes

    missing = [name for name in RECIPE_FIXED if getattr(args, name) is None]
    if missing:
        raise BadRequestError(
            f"Missing {', '.join('--' + m.replace('_', '-') for m in missing)}.",
            "Give --lat, --lon, --month, --width-km and --height-km (or --recipe FILE).",
        )
    gen_args.check_sampling_arguments(args)
    spec = gen_args.spec_from(args)  # a missing --model fails before any look-up
    # the region's checks (sides, area, UTM zone, method x mode) need no look-up: a mistake costs nothing
    point, month = point_from(args), Month.parse(args.month)
    stand_ins = dict(point=point, month=month, land_cover="Croplands", observed_climate=STAND_IN_CLIMATE,
                     **gen_args.sampling_from(args))  # fmt: skip
    stand_in_region = _region_from_args(args, spec, stand_ins)
    if scheduler:
        from core.services import check_cluster_region

        check_cluster_region(stand_in_region)
    side_px = round(max(args.width_km, args.height_km) * 1000 * args.size / 5120)
    check_free_disk(out.parent, estimated_png_bytes(side_px, 4), "--out")
    return _region_from_args(args, spec, gen_args.request_fields(args, settings, point, month))


def _region_from_recipe(args: argparse.Namespace, scheduler: str, out: Path):
    """The region of --recipe (its model and method unless --model / --method say otherwise)."""
    from core.io.outputs import check_free_disk, estimated_png_bytes
    from core.services import region_from_recipe

    gen_args.refuse_overrides_of_recipe(args)
    given = [name for name in RECIPE_FIXED if getattr(args, name) is not None]
    if given:
        raise BadRequestError(
            f"{', '.join('--' + g.replace('_', '-') for g in given)} cannot be used with --recipe (the recipe fixes "
            "the place, month and area).",
            "Leave them out to regenerate the recipe's region, or leave out --recipe.",
        )
    region = region_from_recipe(args.recipe, gen_args.spec_from(args) if args.model else None, args.method)
    if scheduler:
        from core.services import check_cluster_region

        check_cluster_region(region)
    check_free_disk(out.parent, estimated_png_bytes(max(region.width_px, region.height_px), 4), "--out")
    return region


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.io.dask_cluster import check_scheduler
    from core.io.outputs import check_output_file
    from core.services import export_region, make_region

    scheduler = check_scheduler(args.scheduler)
    out = check_output_file(args.out, "--out", (".tif", ".tiff"))
    png = check_output_file(args.png or out.with_suffix(".png"), "--png", (".png",))
    recipe = check_output_file(args.recipe_out or out.with_suffix(".recipe.json"), "--recipe-out", (".json",))
    if args.recipe:
        region = _region_from_recipe(args, scheduler, out)
    else:
        region = _region_from_flags(args, settings, scheduler, out)
    spec = region.base.model
    engine = None if scheduler else gen_args.load_engine(args, settings, spec)
    progress = gen_args.TqdmProgress("region")
    try:
        result = make_region(
            region, settings, engine=engine, progress=progress, with_real=not args.no_real, scheduler=scheduler
        )
    finally:
        progress.close()
    written = export_region(result, out, png=png, recipe=recipe)
    summary = {
        "written": written.as_dict(),
        "label": result.label,
        "method": region.method,
        "crs": region.crs,
        "size_px": [region.width_px, region.height_px],
        "m_per_px": region.pixel_m,
        "tiles": [{"lat": t.point.lat, "lon": t.point.lon, "land_cover": t.land_cover} for t in result.run.tiles],
        "prompt": result.result.prompts.spatial,
        "real": {"scenes": list(result.real.scene_ids)} if result.real is not None else result.real_problem,
        "metrics": {k: round(v, 4) for k, v in result.metrics.items()},
        "seams": {k: round(v, 4) for k, v in result.seams().items()},
        "timings_s": {k: round(v, 3) for k, v in result.run.timings_s.items()},
        "warnings": list(result.run.warnings),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0
