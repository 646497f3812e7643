"""A large area: a width x height km region around a point, generated in tiles and joined without seams,
beside the real Sentinel-2 mosaic of the area; written as a GeoTIFF on the centre's UTM grid, a labelled
PNG preview and a recipe.

The region is a composition of the one `GenerationRequest` (`core.generation.compositions.Region`); the
tiler is `core.generation.tiling`. Default method: MetaEarth (see `DEFAULT_METHOD`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.export.provenance import Provenance
from core.generation.compositions import Region
from core.generation.region_cluster import check_cluster_region
from core.generation.region_runs import RealMosaic, RegionRunResult, generate_region, real_mosaic
from core.generation.runs import GenerationResult, ProgressCallback
from core.generation.tiling import METHOD_NAMES, METHODS, seam_statistic
from core.io.dask_cluster import check_scheduler
from core.services.generate import check_runnable
from core.services.models import check_engine_matches, load_engine

# MetaEarth by default: memory stays at one tile whatever the area, every tile is the stock pipeline
# call (any mode, any generator, the same pixels as a single image of that tile's noise), and a tile
# can be redone alone. MultiDiffusion joins more smoothly but needs per-step access (SD3 text and
# ControlNet only), keeps the whole canvas's latents and conditioning alive, and changes every tile
# when one changes. With real SD3 weights both are untested here (no GPU, no weights): see docs.
DEFAULT_METHOD = "metaearth"

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "METHOD_NAMES",
    "Region",
    "RegionResult",
    "check_cluster_region",
    "export_region",
    "make_region",
    "region_size_label",
]


@dataclass(frozen=True)
class RegionResult:
    """The generated canvas, its provenance (the centre's request) and the real mosaic of the month."""

    run: RegionRunResult
    result: GenerationResult  # the canvas as one result: centre request, centre prompts, region in model_info
    provenance: Provenance
    real: RealMosaic | None = field(default=None, repr=False)
    real_problem: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        return self.run.image

    @property
    def region(self) -> Region:
        return self.run.region

    @property
    def label(self) -> str:
        """'AI-generated · ... · February 2020 · 10.24 x 7.68 km region'."""
        return f"{self.provenance.label} · {region_size_label(self.region)}"

    def seams(self) -> dict[str, float]:
        """The seam statistic of the canvas (`core.generation.tiling.seam_statistic`)."""
        return seam_statistic(self.image, self.region.windows())


def region_size_label(region: Region) -> str:
    width_km = region.width_px * region.pixel_m / 1000.0
    height_km = region.height_px * region.pixel_m / 1000.0
    return f"{width_km:g} x {height_km:g} km region"


def _canvas_result(run: RegionRunResult, settings: Settings) -> GenerationResult:
    """The canvas as one `GenerationResult` of the centre's request, so the single-image writers record it."""
    centre = run.region.base.with_place(settings)
    info = {**run.model_info, "region": run.region.as_dict(),
            "tiles": [{"lat": t.point.lat, "lon": t.point.lon, "land_cover": t.land_cover, "state": t.state,
                       "country": t.country} for t in run.tiles]}  # fmt: skip
    return GenerationResult(
        images=[run.image], prompts=centre.prompts(), seed=centre.seed, model_id=run.model_id,
        timings_s=run.timings_s, request=centre, model_info=info, warnings=run.warnings,
    )  # fmt: skip


def make_region(
    region: Region,
    settings: Settings,
    *,
    engine: Any = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    with_real: bool = True,
    scheduler: str = "",
) -> RegionResult:
    """Generate a region and (with_real) fetch the real mosaic of its month to compare with.

    `scheduler`: `tcp://host:8786` or `local:N` to make MetaEarth tiles on a dask cluster's workers
    (each loads the model; this process does not), empty = this process.

    Raises:
        BadRequestError: a region the generator cannot do (e.g. MultiDiffusion on a peer generator, or on a
            cluster), or a scheduler address that is none.
        CancelledError: `cancel` was set (between steps of a tile / windows of a step).
    """
    if not isinstance(region, Region):
        raise BadRequestError(f"{type(region).__name__} is not a Region.", "Build core.services.Region(base, ...).")
    check_runnable(region.base)
    scheduler = check_scheduler(scheduler)
    if scheduler:
        check_cluster_region(region)  # before anything is looked up
    elif engine is None:
        engine = load_engine(region.base.model, settings)
    if engine is not None:
        check_engine_matches(engine, region.base.model)
    run = generate_region(region, engine, settings, progress=progress, cancel=cancel, scheduler=scheduler)
    result = _canvas_result(run, settings)
    real, problem, metrics = None, "", {}
    if with_real:
        real, problem = _real_of_month(run, settings)
    if real is not None:
        from core.metrics.pixel import psnr, ssim

        metrics = {"ssim": ssim(real.image, run.image), "psnr_db": psnr(real.image, run.image)}
    return RegionResult(run, result, Provenance.of(result), real, problem, metrics)


def _real_of_month(run: RegionRunResult, settings: Settings) -> tuple[RealMosaic | None, str]:
    """The real mosaic of the generated month (reused when the control mosaic is that month's)."""
    month = run.region.base.month
    if run.control is not None and run.control.month == month:
        return run.control, ""
    try:
        return real_mosaic(run.region, month, settings), ""
    except EcoMapperError as err:
        return None, err.problem


@dataclass(frozen=True)
class RegionFiles:
    geotiff: Path
    png: Path
    recipe: Path
    real_png: Path | None = None
    plain_png: Path | None = None

    def as_dict(self) -> dict[str, str]:
        files = {"geotiff": self.geotiff, "png": self.png, "recipe": self.recipe, "real_png": self.real_png,
                 "plain_png": self.plain_png}  # fmt: skip
        return {name: str(path) for name, path in files.items() if path is not None}


def region_from_recipe(path: str | os.PathLike, model: Any = None, method: str | None = None) -> Region:
    """The region a `region` recipe describes: its centre's request, area, method and per-tile naming.

    Args:
        path: the recipe JSON written beside a region's GeoTIFF.
        model: a ModelSpec instead of the recipe's model (None: the recipe's).
        method: a joining method instead of the recipe's (None: the recipe's).

    Raises:
        BadRequestError: the recipe is unreadable, a single image's, or its region is incomplete.
    """
    from core.export.image_files import read_recipe_region
    from core.services.exports import recipe_request

    base = recipe_request(path, model)
    part = read_recipe_region(path)
    try:
        width_km, height_km = float(part["width_km"]), float(part["height_km"])
    except (KeyError, TypeError, ValueError) as err:
        raise BadRequestError(
            f"The recipe {path} does not give the region's width_km and height_km ({err}).",
            "Give a recipe written by `region`.",
        ) from err
    return Region(
        base, width_km, height_km, method=method or str(part.get("method") or DEFAULT_METHOD),
        per_tile=bool(part.get("per_tile", True)),
    )  # fmt: skip


def export_region(
    result: RegionResult,
    geotiff: str | os.PathLike,
    *,
    png: str | os.PathLike | None = None,
    recipe: str | os.PathLike | None = None,
    plain_png: str | os.PathLike | None = None,
) -> RegionFiles:
    """The GeoTIFF (centre's UTM zone, the region's grid, provenance tags), the labelled PNG preview, the recipe
    (the centre's request + the region) and, when fetched, the real mosaic as `<stem>-real.png`.

    `plain_png`: also the image without the label band (a map overlay; its metadata still says AI-generated).
    """
    from core.export.image_files import recipe_dict, result_metadata, write_geotiff, write_png
    from core.export.timelapse import label_image
    from core.io.files import atomic_write_json

    tif = Path(geotiff)
    if tif.suffix.lower() not in (".tif", ".tiff"):
        raise BadRequestError(f"{tif.name!r} is not a .tif file.", "Name the region's GeoTIFF *.tif.")
    png_path = Path(png) if png is not None else tif.with_suffix(".png")
    recipe_path = Path(recipe) if recipe is not None else tif.with_suffix(".recipe.json")
    inner, region = result.result, result.region
    tags = {**result.provenance.geotiff_tags(), "TIFFTAG_IMAGEDESCRIPTION": result.label,
            "region": _json(region.as_dict())}  # fmt: skip
    written_tif = write_geotiff(result.image, tif, region.crs, region.transform, tags=tags)
    metadata = {**result_metadata(inner), "label": result.label, "Description": result.label,
                "region": region.as_dict()}  # fmt: skip
    written_png = write_png(label_image(result.image, result.label), png_path, metadata)
    # the centre's request replays one footprint; the region part says how the area was cut and what each tile read
    recipe_json = {**recipe_dict(inner.request, inner.model_info),
                   "region": {**region.as_dict(), "tiles": inner.model_info.get("tiles", [])}}  # fmt: skip
    written_recipe = atomic_write_json(recipe_path, recipe_json)
    real_png = None
    if result.real is not None:
        real_png = write_png(result.real.image, tif.with_name(tif.stem + "-real.png"),
                             {"Software": "EcoMapper Studio", "ai_generated": "false",
                              "scenes": list(result.real.scene_ids)})  # fmt: skip
    plain = write_png(result.image, plain_png, metadata) if plain_png is not None else None
    return RegionFiles(written_tif, written_png, Path(written_recipe), real_png, plain)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True, default=str)
