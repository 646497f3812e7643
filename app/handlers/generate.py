"""Generate: today's climate and the scenario from the same seed, next to the real image, with
SSIM/PSNR, exports, and the result drawn on the map."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from app import formatting
from app.errors import shown_errors
from app.forms import EDIT_APP_MODES, GenerateForm
from app.handlers import bridge, requests
from app.handlers.context import AppContext, progress_bridge, stop_if_cancelled
from app.handlers.projection import ProjectionHandlers
from app.map_export import write_result_map
from app.map_picker import image_overlay, map_value, served_url
from app.state import GeneratedResults
from core import services
from core.errors import NoImageryError
from core.geo import Month

GENERATE_FIELDS = GenerateForm.FIELDS


@dataclass(frozen=True)
class GenerateShown:
    """What Generate shows; the field order is the `/generate` endpoint's output order."""

    scenario_image: Any
    today_image: Any
    slider: tuple[Any, Any]
    metrics: str
    prompts: str
    png: str
    tif: str
    recipe: str
    html_map: str
    results: GeneratedResults


def source_note(result: services.GenerateResult) -> str:
    """Modes edit / invert: which real scene was edited (an earlier month when the month had none, said so)."""
    request = result.request
    if request.mode not in EDIT_APP_MODES:
        return ""
    month = request.control_month or request.month
    earlier = month != request.month
    return f"Edited the real Sentinel-2 image of {month}" + (
        f" (no usable scene of {request.month}: the nearest earlier month with one)." if earlier else "."
    )


def credentials_note(note: str) -> str:
    """The exports' content credentials in a few words, on the model line (the Exports tab fits one screen)."""
    if not note:
        return ""
    if note.startswith("content credentials signed"):
        return f" · C2PA: {note.removeprefix('content credentials ')}"
    why = note.split(":", 1)[-1].split("(")[0].strip()
    return f" · C2PA: none ({why})"


@dataclass(frozen=True)
class Prepared:
    """A Generate form made ready to run: the request, the engine it runs on, the place and the file stem."""

    request: services.GenerationRequest
    engine: Any
    spec: services.ModelSpec
    point_view: bridge.PointView
    stem: str
    control_month: Month | None


def _prompts_text(scenario, form: GenerateForm, model_id: str, control_month: Month | None) -> str:
    prompts = scenario.prompts
    return (
        f"**Spatial prompt** (CLIP): {prompts.spatial}\n\n**Climate prompt** (T5): {prompts.climate}\n\n"
        f"Model `{model_id}`, seed {form.sampling.seed}, mode {form.mode}"
        + (f" (control image of {control_month})" if control_month else "")
        + f"; {formatting.format_timings(scenario.timings_s or {})}"
    )


class GenerateHandlers:
    """The Generate button (and `/generate`): one request, today and the scenario, exports, the map."""

    def __init__(self, context: AppContext, projection: ProjectionHandlers) -> None:
        self.context = context
        self.projection = projection

    @shown_errors
    def generate(self, request: gr.Request, progress: gr.Progress, **values: Any) -> Iterator[GenerateShown | dict]:
        """The quick preview first when the model has one (`core.services.preview`), then the full image."""
        form = GenerateForm.parse(values, self.context.config.model_id)
        with self.context.cancellable(request) as cancel:
            spec = requests.model_spec(form.model, form.mode)
            plan = services.preview_plan(spec, form.mode, self.context.settings)
            prepared = self.prepare(form, progress)  # the base carries the preview LoRA at scale 0 when there is one
            if plan is not None:
                yield self._preview(form, prepared, plan, progress, cancel)
            yield self._generate(form, prepared, request, progress, cancel)

    def _preview(self, form: GenerateForm, prepared: Prepared, plan: services.PreviewPlan, progress, cancel) -> dict:
        """The scenario at the preview LoRA's few steps, same seed, in the scenario's place (the rest stays)."""
        engine, _ = self.context.engine_for(form.model, form.mode, progress, plan.preview_spec)
        stop_if_cancelled(cancel, "before the preview")
        result = services.generate(
            plan.preview_request(prepared.request), self.context.settings, engine=engine,
            progress=progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        steps = plan.preset.num_inference_steps
        label = f"Quick preview ({steps} steps) · {result.label} · the full image follows"
        return {"scenario_image": services.label_image(result.image, label)}

    def prepare(self, form: GenerateForm, progress) -> Prepared:
        """The service request of a Generate form, its loaded engine and where its files go (shared by Change)."""
        form.require_land_cover()
        observed = form.observed_climate()
        control_image, control_month = self._control(form, progress)
        point_view = bridge.describe_point(form.point, self.context.settings)
        engine, spec = self.context.engine_for(form.model, form.mode, progress)
        scenario_choice = self.projection.scenario_for(form, progress)
        core_request = requests.generation_request(
            form, observed, scenario_choice, point_view, spec, control_image, control_month
        )
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), f"seed{form.sampling.seed}",
            form.mode, formatting.scenario_stem(scenario_choice),
        )  # fmt: skip
        return Prepared(core_request, engine, spec, point_view, stem, control_month)

    def _generate(self, form: GenerateForm, prepared: Prepared, request: gr.Request, progress, cancel) -> GenerateShown:
        engine, _ = self.context.engine_for(form.model, form.mode, progress, prepared.spec)  # after a preview
        prepared = replace(prepared, engine=engine)
        reference = self._reference(form)
        folder = self.context.output_folder(request)
        stop_if_cancelled(cancel, "before denoising")
        view = bridge.generate_compare(
            prepared.request, prepared.engine, self.context.settings, folder, prepared.stem, reference,
            progress=progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        prompts = _prompts_text(view.comparison.scenario, form, prepared.spec.model_id, prepared.control_month)
        prompts += credentials_note(view.files.credentials)
        shown = self._shown(form, view, prepared.point_view, folder, prepared.stem, prompts)
        note = source_note(view.comparison.scenario)
        return replace(shown, metrics=f"{note} {shown.metrics}") if note else shown

    def _control(self, form: GenerateForm, progress) -> tuple[np.ndarray | None, Month | None]:
        """(control image, its month) in ControlNet mode; (None, None) in text mode."""
        if form.mode != "controlnet":
            return None, None
        control_month = services.control_month_before(form.month, form.control_months_before)
        progress(0.02, desc=f"Fetching the control image of {control_month}")
        try:
            return bridge.real_image(form.point, control_month, self.context.settings), control_month
        except NoImageryError as err:
            raise NoImageryError(
                f"ControlNet needs a real image {form.control_months_before} month(s) earlier: {err.problem}",
                "Pick another 'months before' value (1 to 6) or use Text mode.",
            ) from err

    def _shown(self, form: GenerateForm, view: bridge.CompareView, point_view: bridge.PointView, folder: Path,
               stem: str, prompts: str) -> GenerateShown:  # fmt: skip
        comparison = view.comparison
        today, scenario = comparison.today, comparison.scenario
        # The same band height under both, so they line up side by side and in the slider.
        today_shown = services.label_image(today.image, today.label, (scenario.label,))
        scenario_shown = services.label_image(scenario.image, scenario.label, (today.label,))
        overlay_path = bridge.write_plain_png(scenario.image, folder / f"{stem}_overlay.png")
        today_overlay_path = bridge.write_plain_png(today.image, folder / f"{stem}_today_overlay.png")
        html_map = write_result_map(
            folder / f"{stem}_map.html",
            bbox=point_view.footprint_bbox,
            footprint=point_view.footprint_geojson,
            real=comparison.real,
            today=(today.image, today.label),
            scenario=(scenario.image, scenario.label),
        )
        results = GeneratedResults(
            lat=form.point.lat,
            lon=form.point.lon,
            month=str(form.month),
            footprint=point_view.footprint_geojson,
            bbox=point_view.footprint_bbox,
            image_path=str(overlay_path),
            label=scenario.label,
            real_path=self.observed_path(form, folder),
            today_path=str(today_overlay_path),
        )
        return GenerateShown(
            scenario_image=scenario_shown,
            today_image=today_shown,
            slider=(today_shown, scenario_shown),
            metrics=formatting.format_comparison(comparison),
            prompts=prompts,
            png=str(view.files.png),
            tif=str(view.files.geotiff),
            recipe=str(view.files.recipe),
            html_map=str(html_map),
            results=results,
        )

    def _reference(self, form: GenerateForm) -> np.ndarray | None:
        """The real image of the month (cached on disk by core), None when the month has no scene."""
        try:
            return bridge.real_image(form.point, form.month, self.context.settings)
        except NoImageryError:
            return None

    def observed_path(self, form: GenerateForm, folder: Path) -> str | None:
        """The real image the session observed for this place and month (written by Observe), if any."""
        path = folder / formatting.observed_png_name(form.point, form.month)
        return str(path) if path.exists() else None


def map_for_results(results: GeneratedResults | None) -> dict:
    """The map after Generate: today's and the scenario's image on the footprint with a fader between them,
    and the real image as a third layer (issue 25: the fader compared real and scenario)."""
    if results is None:
        return gr.skip()
    real = image_overlay(served_url(results.real_path), results.bbox, "real") if results.real_path else None
    generated = image_overlay(served_url(results.image_path), results.bbox, results.label)
    today = image_overlay(served_url(results.today_path), results.bbox, "today") if results.today_path else None
    return {
        "map_html": map_value(
            results.lat, results.lon, results.footprint, fly=True, real=real, generated=generated, today=today
        )
    }
