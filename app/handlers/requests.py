"""Every core request the app builds, from its forms, and the reverse (a recipe back into form values).

The one place where the app constructs `core.services` requests: a change to the request model
touches this file, not the handlers.
"""

from __future__ import annotations

from typing import Any

from app.forms import GenerateForm, GridForm, ModelChoice, ModelsForm, TimelapseForm
from core import services
from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.geo import Month


def model_spec(model: ModelChoice, mode: str) -> services.ModelSpec:
    """The weights to load: the ControlNet only in ControlNet mode (the base is shared by both)."""
    return services.ModelSpec(
        model_id=model.model_id,
        controlnet=model.controlnet if mode == "controlnet" else None,
        lora=model.lora,
        lora_scale=model.lora_scale,
    )


def generation_request(
    form: GenerateForm,
    observed: ClimateValues | None,
    scenario: Scenario,
    place: Any,
    spec: services.ModelSpec,
    control_image: Any = None,
    control_month: Month | None = None,
) -> services.GenerationRequest:
    """The service request of a Generate form: observed climate and scenario kept apart.

    Args:
        place: the point's names (`bridge.PointView`: `state`, `country`).
    """
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
        state=place.state,
        country=place.country,
        model=spec,
        edit=edit_options(form),
    )


def edit_options(form: GenerateForm) -> services.EditOptions:
    """FlowEdit's / inversion's options of a Generate form (the defaults outside modes edit and invert)."""
    if form.edit is None:
        return services.EditOptions()
    return services.EditOptions(
        n_max=form.edit.n_max, n_min=form.edit.n_min, n_avg=form.edit.n_avg,
        source_guidance=form.edit.source_guidance, target_guidance=form.edit.target_guidance,
    )  # fmt: skip


def timelapse_request(
    form: TimelapseForm, base: services.GenerationRequest, scenario: Scenario
) -> services.TimelapseRequest:
    """A frame per month from `base` (under today's climate), `scenario` (the sliders' or a projection's)
    applied to each."""
    return services.TimelapseRequest(
        base=base, start=form.start, end=form.end, scenario=scenario, chain=form.chain,
        side_by_side=form.side_by_side, fps=form.fps,
    )  # fmt: skip


def grid_request(form: GridForm, base: services.GenerationRequest) -> services.GridRequest:
    return services.GridRequest(base=base, temp_deltas_c=form.temp_deltas_c, precip_changes_pct=form.precip_changes_pct)


def backend_request(form: ModelsForm, place: Any, scenario: Scenario) -> services.GenerationRequest:
    """The request every generator of the Models tab gets (`scenario`, the sliders' or a projection's, only
    with an observed climate; each generator's own steps and guidance)."""
    return services.GenerationRequest(
        point=form.point,
        month=form.month,
        land_cover=form.land_cover,
        cloud_fraction=form.cloud_fraction,
        observed_climate=form.observed_climate,
        scenario=scenario if form.observed_climate is not None else Scenario.today(),
        seed=form.seed,
        num_inference_steps=None,
        guidance_scale=None,
        state=place.state,
        country=place.country or "",
    )


def recipe_values(path: str) -> dict[str, Any]:
    """The Generate form's values of a recipe (keyed by `GenerateForm.FIELDS`), rounded for display."""
    req = services.recipe_request(path)
    spec = req.model
    climate = req.observed_climate or req.climate
    change = req.scenario.change_for(req.month)
    projection = req.scenario.projection if req.scenario.kind == "projection" else None
    return {
        "lat": f"{req.point.lat:.5f}",
        "lon": f"{req.point.lon:.5f}",
        "month": str(req.month),
        "land_cover": req.land_cover,
        "cloud_pct": round(100.0 * req.cloud_fraction, 1),
        "temp_c": f"{climate.temp_c:.1f}" if climate else "",
        "precip_mm_day": f"{climate.precip_mm_day:.2f}" if climate else "",
        "solar_mj_m2_day": f"{climate.solar_mj_m2_day:.1f}" if climate else "",
        "temp_delta_c": change.temp_delta_c,
        "precip_pct": change.precip_change_pct,
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
        "ssp": projection.ssp if projection else "",
        "horizon": projection.horizon if projection else 2050,
        "normals_years": "",
        **_edit_values(req.edit),
    }


def _edit_values(edit: services.EditOptions) -> dict[str, Any]:
    """A recipe's edit options as the boxes show them (an empty box: the mode's default)."""
    return {
        "n_max": edit.n_max or 0, "n_min": edit.n_min, "n_avg": edit.n_avg,
        "source_guidance": "" if edit.source_guidance is None else f"{edit.source_guidance:g}",
        "target_guidance": "" if edit.target_guidance is None else f"{edit.target_guidance:g}",
    }  # fmt: skip
