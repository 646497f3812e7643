"""Calls into `core` that several handlers share: the place of a point, today vs scenario from one
seed, the time-lapse and the scenario grid, their exports and labels.

Everything goes through `core.services` where the service exists. Compare metrics, exports, time-lapse
and grid still call `core.generate` / `core.export` / `core.timelapse` / `core.metrics` here, in this
one module, until their services land (h9core); then each function here becomes one service call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import services
from core.climate_values import ClimateValues
from core.errors import NoImageryError
from core.geo import Footprint, Month, Point
from core.scenario import Scenario

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Load the offline place look-up and land mask now, so the first click does not wait for them."""
    services.place_of(Point(48.85, 2.35))


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
    place = services.place_of(point)
    label = place.label()
    if place.nearest_place:
        label = f"near {place.nearest_place}, {label}"
    footprint = Footprint.around(point)
    return PointView(point, label, place.state, place.country, footprint.geojson(), footprint.bbox, footprint.crs)


@dataclass
class CompareView:
    """Today's climate and the scenario from the same seed, with the real image and metrics."""

    today: Any  # services.GenerateResult
    scenario: Any  # services.GenerateResult
    real: np.ndarray | None
    metrics: dict[str, dict[str, float]]
    files: dict[str, Path]


def generate_compare(request, engine, settings, folder: Path, stem: str, reference: np.ndarray | None,
                     progress=None, cancel=None) -> CompareView:  # fmt: skip
    """Generate the request under today's climate and under its scenario (same seed), compare, export."""
    from core import metrics
    from core.export import footprint_georeference, result_metadata, write_geotiff, write_png, write_recipe

    today = services.generate(
        request.replace(scenario=Scenario.today()), settings, engine=engine, progress=progress, cancel=cancel
    )
    scenario = (
        today
        if request.scenario.is_today
        else services.generate(request, settings, engine=engine, progress=progress, cancel=cancel)
    )
    pairs = {"scenario vs today": (today.image, scenario.image)}
    if reference is not None:
        reference = _resized_like(reference, today.image)
        pairs["today vs real"] = (reference, today.image)
        pairs["scenario vs real"] = (reference, scenario.image)
    values = {name: {"SSIM": metrics.ssim(a, b), "PSNR": metrics.psnr(a, b)} for name, (a, b) in pairs.items()}
    png = write_png(scenario.image, folder / f"{stem}.png", result_metadata(scenario.result))
    crs, transform = footprint_georeference(request.point, scenario.image.shape[0])
    tif = write_geotiff(scenario.image, folder / f"{stem}.tif", crs, transform, tags=scenario.provenance.geotiff_tags())
    recipe = write_recipe(scenario.request, folder / f"{stem}.recipe.json", model=scenario.model_info)
    return CompareView(
        today=today, scenario=scenario, real=reference, metrics=values, files={"png": png, "tif": tif, "recipe": recipe}
    )


def _resized_like(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`image` at the height and width of `like` (Lanczos), e.g. the 512 px real image beside a 1024 px result."""
    if image.shape[:2] == like.shape[:2]:
        return image
    from PIL import Image

    height, width = like.shape[:2]
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def generation_request(form, observed: ClimateValues | None, scenario: Scenario, point_view: PointView, spec,
                       control_image=None, control_month=None):  # fmt: skip
    """The service request of a Generate form: observed climate and scenario kept apart."""
    return services.GenerateRequest(
        point=form.point,
        month=form.month,
        land_cover=form.land_cover,
        cloud_fraction=form.cloud_fraction,
        observed_climate=observed,
        scenario=scenario,
        seed=form.sampling.seed,
        num_inference_steps=form.sampling.steps,
        guidance_scale=form.sampling.guidance,
        size_px=form.sampling.size_px,
        mode=form.mode,
        control_image=control_image,
        control_month=control_month,
        state=point_view.state,
        country=point_view.country,
        model=spec,
    )


def real_image(point: Point, month: Month, settings) -> np.ndarray:
    """The month's real image (a writable copy), `NoImageryError` when there is none."""
    return np.array(services.fetch_real_scene(point, month, settings).image, dtype=np.uint8)


def labelled(image: np.ndarray, caption: str, *others: str) -> np.ndarray:
    """The image with its label ("AI-generated · place · month · scenario") in a band below it."""
    from core.timelapse import compose_frame

    # Sized to fit `others` too, so images shown side by side (or in a slider) match.
    return compose_frame(np.asarray(image, dtype=np.uint8), caption, fit_captions=others)


def write_plain_png(image: np.ndarray, path: Path) -> Path:
    from core.export import write_png

    return write_png(np.asarray(image, dtype=np.uint8), path, {"Software": "EcoMapper Studio", "ai_generated": "yes"})


def timelapse(base_request, scenario: Scenario, place: PointView, start: Month, end: Month, chain: str,
              side_by_side: bool,
              fps: float, path: Path, engine, settings, noise: bool, progress=None,
              cancel=None) -> tuple[Path, int]:  # fmt: skip
    """Generate one frame per month and write the GIF/MP4; every frame is labelled AI-generated."""
    from core.generate import TimeSeriesRequest, generate_time_series
    from core.provenance import image_label
    from core.timelapse import caption_for, write_timelapse

    series = generate_time_series(
        TimeSeriesRequest(base=base_request, start=start, end=end, scenario=scenario, chain=chain),
        engine, settings, progress=progress, cancel=cancel,
    )  # fmt: skip
    frames = [np.asarray(image, dtype=np.uint8) for image in series.images]
    captions = [
        caption_for(m, c, image_label(place.place_label, None, scenario, noise=noise))
        for m, c in zip(series.months, series.climates, strict=True)
    ]
    reals = None
    if side_by_side:
        reals = []
        for month in series.months:
            try:
                reals.append(real_image(base_request.point, month, settings))
            except NoImageryError:
                reals.append(np.full_like(frames[0], 128))
    write_timelapse(frames, captions, path, fps=fps, side_by_side=reals)
    return path, len(frames)


def scenario_grid(base_request, place: PointView, temps: list[float], precips: list[float], engine, settings,
                  path: Path, noise: bool, progress=None, cancel=None) -> Path:  # fmt: skip
    """Temperature (rows) x precipitation (columns) variants as one PNG with row and column headers."""
    from app.grid_image import compose_grid
    from core.export import write_png
    from core.generate import ScenarioGridRequest, generate_scenario_grid
    from core.provenance import image_label

    grid_request = ScenarioGridRequest(
        base=base_request, temp_deltas_c=tuple(temps), precip_scales=tuple(1.0 + p / 100.0 for p in precips)
    )
    grid = generate_scenario_grid(grid_request, engine, settings, progress=progress, cancel=cancel)
    cells = [[np.asarray(cell.image, dtype=np.uint8) for cell in row] for row in grid.cells]
    observed = grid_request.observed
    title = (
        f"{image_label(place.place_label, base_request.month, None, noise=noise)} · today "
        f"{observed.temp_c:.1f} °C, {observed.precip_mm_day:.2f} mm/day"
    )
    image = compose_grid(cells, grid_request.row_labels, grid_request.column_labels, title)
    return write_png(image, path, {"Software": "EcoMapper Studio", "title": title})


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
