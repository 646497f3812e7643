"""The app's only door into `core` (the workflow itself lives there): observe, generate today vs
scenario, time-lapse, grid, exports. Each function is one call for one widget event."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.climate_values import ClimateValues
from core.errors import EcoMapperError, NoImageryError
from core.geo import Footprint, Month, Point

log = logging.getLogger(__name__)

CHART_MONTHS = 48


def warm_up() -> None:
    """Load the offline place look-up and land mask now, so the first click does not wait for them."""
    from core.sources.places import reverse_geocode

    reverse_geocode(Point(48.85, 2.35))


@dataclass(frozen=True)
class PointView:
    point: Point
    place_label: str
    state: str | None
    country: str
    footprint_geojson: dict
    footprint_bbox: tuple[float, float, float, float]
    crs: str


def describe_point(point: Point) -> PointView:
    from core.sources.places import reverse_geocode

    place = reverse_geocode(point)
    label = place.label()
    if place.nearest_place:
        label = f"near {place.nearest_place}, {label}"
    footprint = Footprint.around(point)
    return PointView(point, label, place.state, place.country, footprint.geojson(), footprint.bbox, footprint.crs)


def search_places(query: str):
    from core.sources.place_search import search_places as search

    return search(query, limit=10)


@dataclass
class ObservationView:
    point: PointView
    month: Month
    scene: Any = None  # core Scene
    scene_problem: str = ""
    climate: ClimateValues | None = None
    climate_problem: str = ""
    climate_series: Any = None
    land_cover: str | None = None
    land_cover_source: str = ""
    land_cover_message: str = ""
    land_cover_shares: dict = field(default_factory=dict)


def observe(point: Point, month: Month, settings) -> ObservationView:
    """Scene, climate, land cover and place of a month, each independently (one missing part is a note)."""
    from core.sources.climate import climate_for_month, fetch_climate
    from core.sources.imagery import fetch_scene
    from core.sources.landcover import lookup_land_cover

    view = ObservationView(point=describe_point(point), month=month.ensure_not_future())
    try:
        view.scene = fetch_scene(point, month, settings)
    except NoImageryError as err:
        view.scene_problem = str(err)
    try:
        view.climate_series = fetch_climate(point, month - (CHART_MONTHS - 1), month, settings)
        view.climate = climate_for_month(view.climate_series, month)
    except EcoMapperError as err:
        view.climate_problem = str(err)
    lookup = lookup_land_cover(point, settings)
    view.land_cover, view.land_cover_source = lookup.land_cover, lookup.source
    view.land_cover_message, view.land_cover_shares = lookup.message, dict(lookup.shares)
    return view


def latest_month(settings) -> Month:
    from datetime import date

    return Month.of(date.today()) - 2


def control_image(point: Point, month: Month, size_px: int, settings) -> np.ndarray:
    from core.generate import fetch_control_image

    image, _ = fetch_control_image(point, month, size_px, settings)
    return image


def load_engine(spec, settings, progress=None):
    from core.models.engine import Engine

    return Engine.load(spec, settings, progress=progress)


def model_spec(model_id: str, controlnet: str | None, lora: str | None, lora_scale: float):
    from core.models import ModelSpec

    return ModelSpec(model_id=model_id, controlnet=controlnet, lora=lora, lora_scale=lora_scale)


@dataclass
class CompareView:
    today: np.ndarray
    scenario: np.ndarray
    real: np.ndarray | None
    metrics: dict[str, dict[str, float]]
    prompts_spatial: str
    prompts_climate: str
    model_id: str
    seed: int
    files: dict[str, Path]
    warnings: list[str]


def generate_compare(request, observed: ClimateValues | None, scenario, engine, settings, folder: Path, stem: str,
                     reference: np.ndarray | None, progress=None, cancel=None) -> CompareView:  # fmt: skip
    from core import metrics
    from core.export import footprint_georeference, result_metadata, write_geotiff, write_png, write_recipe
    from core.generate import generate_images

    today_req = request.replace(climate=observed)
    final = observed.with_scenario(scenario[0], 1.0 + scenario[1] / 100.0) if observed else None
    scen_req = request.replace(climate=final)
    today = generate_images(today_req, engine, settings, progress=progress, cancel=cancel)
    result = (
        generate_images(scen_req, engine, settings, progress=progress, cancel=cancel) if final != observed else today
    )
    image = np.asarray(result.images[0], dtype=np.uint8)
    today_image = np.asarray(today.images[0], dtype=np.uint8)
    pairs = {"scenario vs today": (today_image, image)}
    if reference is not None:
        pairs["today vs real"] = (reference, today_image)
        pairs["scenario vs real"] = (reference, image)
    values = {name: {"SSIM": metrics.ssim(a, b), "PSNR": metrics.psnr(a, b)} for name, (a, b) in pairs.items()}
    png = write_png(image, folder / f"{stem}.png", result_metadata(result))
    crs, transform = footprint_georeference(request.point, image.shape[0])
    tif = write_geotiff(image, folder / f"{stem}.tif", crs, transform)
    recipe = write_recipe(result.request, folder / f"{stem}.recipe.json", model=result.model_info)
    write_png(today_image, folder / f"{stem}_today.png", result_metadata(today))
    return CompareView(
        today=today_image, scenario=image, real=reference, metrics=values,
        prompts_spatial=result.prompts.spatial, prompts_climate=result.prompts.climate,
        model_id=result.model_id, seed=result.seed,
        files={"png": png, "tif": tif, "recipe": recipe, "today_png": folder / f"{stem}_today.png"},
        warnings=list(result.warnings),
    )  # fmt: skip


def generation_request(form, observed: ClimateValues, point_view: PointView, control_image, control_month):
    """The core request of a Generate form (the climate is set per image by `generate_compare`)."""
    from core.generate import GenerationRequest

    return GenerationRequest(
        point=form.point,
        month=form.month,
        land_cover=form.land_cover,
        cloud_fraction=form.cloud_fraction,
        climate=observed,
        seed=form.sampling.seed,
        num_inference_steps=form.sampling.steps,
        guidance_scale=form.sampling.guidance,
        size_px=form.sampling.size_px,
        mode=form.mode,
        control_image=control_image,
        control_month=control_month,
        state=point_view.state,
        country=point_view.country,
    )


def real_image(point: Point, month: Month, settings) -> np.ndarray:
    from core.sources.imagery import fetch_scene

    return np.array(fetch_scene(point, month, settings).image, dtype=np.uint8)


def labelled(image: np.ndarray, caption: str) -> np.ndarray:
    """The image with its label in a band below it (what the page shows and downloads)."""
    from core.timelapse import compose_frame

    return compose_frame(np.asarray(image, dtype=np.uint8), caption)


def write_plain_png(image: np.ndarray, path: Path) -> Path:
    from core.export import write_png

    return write_png(np.asarray(image, dtype=np.uint8), path, {"Software": "EcoMapper Studio", "ai_generated": "yes"})


def timelapse(form, place: PointView, start: Month, end: Month, scenario: tuple[float, float], chain: str,
              side_by_side: bool, fps: float, path: Path, engine, settings, mark: str, progress=None,
              cancel=None) -> tuple[Path, int]:  # fmt: skip
    """Generate one frame per month and write the GIF/MP4; every frame says it is AI-generated."""
    from core.generate import TimeSeriesRequest, generate_time_series
    from core.timelapse import caption_for, write_timelapse

    base = generation_request(form, None, place, None, None)
    series = generate_time_series(
        TimeSeriesRequest(
            base=base, start=start, end=end, temp_delta_c=scenario[0], precip_scale=1.0 + scenario[1] / 100.0,
            chain=chain,
        ),
        engine, settings, progress=progress, cancel=cancel,
    )  # fmt: skip
    frames = [np.asarray(image, dtype=np.uint8) for image in series.images]
    label = f"{mark} · {place.place_label}" + (
        "" if scenario == (0.0, 0.0) else f" · scenario {scenario[0]:+g} °C, {scenario[1]:+g} % rain"
    )
    captions = [caption_for(m, c, label) for m, c in zip(series.months, series.climates, strict=True)]
    reals = None
    if side_by_side:
        reals = []
        for month in series.months:
            try:
                reals.append(real_image(form.point, month, settings))
            except NoImageryError:
                reals.append(np.full_like(frames[0], 128))
    write_timelapse(frames, captions, path, fps=fps, side_by_side=reals)
    return path, len(frames)


def scenario_grid(form, place: PointView, observed: ClimateValues, temps: list[float], precips: list[float],
                  engine, settings, path: Path, mark: str, progress=None, cancel=None) -> Path:  # fmt: skip
    """Generate temperature (rows) x precipitation (columns) variants and write them as one labelled PNG."""
    from app.grid_image import compose_grid
    from core.generate import ScenarioGridRequest, generate_scenario_grid

    grid = generate_scenario_grid(
        ScenarioGridRequest(
            base=generation_request(form, observed, place, None, None),
            temp_deltas_c=tuple(temps),
            precip_scales=tuple(1.0 + p / 100.0 for p in precips),
        ),
        engine, settings, progress=progress, cancel=cancel,
    )  # fmt: skip
    cells = [[np.asarray(cell.image, dtype=np.uint8) for cell in row] for row in grid.cells]
    title = (
        f"{mark} · {place.place_label} · {form.month} · "
        f"observed {observed.temp_c:.1f} °C, {observed.precip_mm_day:.2f} mm/day"
    )
    image = compose_grid(
        cells,
        row_headers=[f"{t:+g} °C" for t in temps],
        column_headers=[f"{p:+g} % rain" for p in precips],
        title=title,
    )
    from core.export import write_png

    return write_png(image, path, {"Software": "EcoMapper Studio", "ai_generated": mark, "title": title})


def read_recipe(path: str) -> dict:
    """The Generate form's values of a recipe (in `GenerateForm.FIELDS` order), rounded for display."""
    from core.export import read_recipe as read
    from core.export import read_recipe_model

    req = read(Path(path))
    spec = read_recipe_model(Path(path))
    climate = req.climate
    return {
        "lat": f"{req.point.lat:.5f}",
        "lon": f"{req.point.lon:.5f}",
        "month": str(req.month),
        "land_cover": req.land_cover,
        "cloud_pct": round(100.0 * req.cloud_fraction, 1),
        "temp_c": f"{climate.temp_c:.1f}" if climate else "",
        "precip_mm_day": f"{climate.precip_mm_day:.2f}" if climate else "",
        "solar_mj_m2_day": f"{climate.solar_mj_m2_day:.1f}" if climate else "",
        "temp_delta_c": 0.0,
        "precip_pct": 0.0,
        "mode": req.mode,
        "control_months_before": int(req.month - req.control_month) if req.control_month is not None else 1,
        "model_id": spec.model_id if spec else "tiny-random",
        "seed": req.seed,
        "steps": req.num_inference_steps,
        "guidance": round(req.guidance_scale, 2),
        "size_px": req.size_px,
        "controlnet": (spec.controlnet or "") if spec else "",
        "lora": (spec.lora or "") if spec else "",
        "lora_scale": round(spec.lora_scale, 2) if spec else 1.0,
    }
