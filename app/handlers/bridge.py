"""Calls into `core` that several handlers share: the place of a point, today vs scenario from one
seed, the time-lapse and the scenario grid, their exports and labels.

Every function is a call (or two) into `core.services`, shaped for the handlers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import services
from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.geo import Footprint, Month, Point

log = logging.getLogger(__name__)


def warm_up(settings=None) -> None:
    """Load the place look-up (the boundary file: fetched once, then from the cache) and the land mask
    now, so the first click does not wait for them."""
    services.place_of(Point(48.85, 2.35), settings)


@dataclass(frozen=True)
class PointView:
    point: Point
    place_label: str
    state: str | None
    country: str
    footprint_geojson: dict
    footprint_bbox: tuple[float, float, float, float]
    crs: str


def describe_point(point: Point, settings=None) -> PointView:
    """The place names (the admin-1 boundary containing the point, with `settings`) and the footprint."""
    place = services.place_of(point, settings)
    label = place.label()
    if place.nearest_place:
        label = f"near {place.nearest_place}, {label}"
    footprint = Footprint.around(point)
    return PointView(point, label, place.state, place.country, footprint.geojson(), footprint.bbox, footprint.crs)


@dataclass
class CompareView:
    """Today's climate and the scenario from the same seed, with the real image and metrics."""

    comparison: Any  # services.Comparison
    files: Any  # services.ExportedFiles of the scenario image


def generate_compare(request, engine, settings, folder: Path, stem: str, reference: np.ndarray | None,
                     progress=None, cancel=None) -> CompareView:  # fmt: skip
    """Generate the request under today's climate and under its scenario (same seed), compare, export."""
    comparison = services.compare(
        request, settings, engine=engine, real_image=reference, progress=progress, cancel=cancel
    )
    files = services.export_image(
        comparison.scenario, folder / f"{stem}.png", recipe=folder / f"{stem}.recipe.json",
        geotiff=folder / f"{stem}.tif",
    )  # fmt: skip
    return CompareView(comparison=comparison, files=files)


def generation_request(form, observed: ClimateValues | None, scenario: Scenario, point_view: PointView, spec,
                       control_image=None, control_month=None):  # fmt: skip
    """The service request of a Generate form: observed climate and scenario kept apart."""
    return services.GenerationRequest(
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


def write_plain_png(image: np.ndarray, path: Path) -> Path:
    """The generated pixels alone (for the map overlay, which shows its label beside the map)."""
    from PIL import Image

    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path


def timelapse(base_request, scenario: Scenario, start: Month, end: Month, chain: str, side_by_side: bool,
              fps: float, path: Path, engine, settings, progress=None, cancel=None) -> tuple[Path, int]:  # fmt: skip
    """One labelled frame per month written as GIF/MP4 (`core.services.make_timelapse`)."""
    result = services.make_timelapse(
        services.TimelapseRequest(
            base=base_request, start=start, end=end, scenario=scenario, chain=chain, side_by_side=side_by_side,
            fps=fps,
        ),
        path, settings, engine=engine, progress=progress, cancel=cancel,
    )  # fmt: skip
    return result.path, len(result.captions)


def scenario_grid(base_request, temps: list[float], precips: list[float], engine, settings, path: Path,
                  progress=None, cancel=None) -> Path:  # fmt: skip
    """Temperature (rows) x precipitation (columns) as one headed, labelled PNG (`core.services.make_grid`)."""
    services.make_grid(
        services.GridRequest(base=base_request, temp_deltas_c=tuple(temps), precip_changes_pct=tuple(precips)),
        settings, engine=engine, out=path, progress=progress, cancel=cancel,
    )  # fmt: skip
    return path


def read_recipe(path: str) -> dict:
    """The Generate form's values of a recipe (in `GenerateForm.FIELDS` order), rounded for display."""
    req = services.recipe_request(path)
    spec = req.model
    observed = req.observed_climate or req.climate
    climate = observed
    return {
        "lat": f"{req.point.lat:.5f}",
        "lon": f"{req.point.lon:.5f}",
        "month": str(req.month),
        "land_cover": req.land_cover,
        "cloud_pct": round(100.0 * req.cloud_fraction, 1),
        "temp_c": f"{climate.temp_c:.1f}" if climate else "",
        "precip_mm_day": f"{climate.precip_mm_day:.2f}" if climate else "",
        "solar_mj_m2_day": f"{climate.solar_mj_m2_day:.1f}" if climate else "",
        "temp_delta_c": req.scenario.change_for(req.month).temp_delta_c,
        "precip_pct": req.scenario.change_for(req.month).precip_change_pct,
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
        # A projection recipe picks its SSP and horizon again (the change also depends on the month).
        "ssp": req.scenario.projection.ssp if req.scenario.kind == "projection" else "",
        "horizon": req.scenario.projection.horizon if req.scenario.kind == "projection" else 2050,
        "normals_years": "",
    }
