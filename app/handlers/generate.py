"""Generate: today's climate and the scenario from the same seed, next to the real image, with
SSIM/PSNR, exports, and the result drawn on the map."""

from __future__ import annotations

import gradio as gr
import numpy as np

from app import formatting
from app.endpoints import form_endpoint
from app.errors import shown_errors
from app.forms import GenerateForm
from app.handlers import bridge
from app.map_export import write_result_map
from app.map_picker import image_overlay, map_value, served_url
from app.state import GeneratedResults, Observation
from core import services
from core.climate.values import ClimateValues
from core.errors import BadRequestError, NoImageryError

GENERATE_FIELDS = GenerateForm.FIELDS


def _observed_climate(form: GenerateForm) -> ClimateValues:
    observed = form.observed
    if not observed.complete:
        raise BadRequestError(
            f"The climate of {form.month} is not known (NASA POWER has no value, or the boxes are empty).",
            "Observe a month that has climate data, or type temperature, precipitation and radiation in the "
            "'Observed climate' tab.",
        )
    return ClimateValues(observed.temp_c, observed.precip_mm_day, observed.solar_mj_m2_day)  # type: ignore[arg-type]


class GenerateHandlers:
    """Mixed into `Handlers`."""

    @shown_errors
    def _generate(self, values: dict, request: gr.Request, progress) -> tuple:
        """Returns (scenario image, today image, slider pair, metrics, prompts, PNG, GeoTIFF, recipe,
        HTML map, results state)."""
        with self.cancellable(request) as cancel:
            return self._generate_form(GenerateForm.parse(values, self.config.model_id), request, progress, cancel)

    def _generate_form(self, form: GenerateForm, request: gr.Request, progress, cancel) -> tuple:
        if not form.land_cover:
            raise BadRequestError(
                "No land cover is chosen.", "Observe the place to look it up, or choose one from the list."
            )
        observed = _observed_climate(form)
        control_image, control_month = None, None
        if form.mode == "controlnet":
            control_month = services.control_month_before(form.month, form.control_months_before)
            progress(0.02, desc=f"Fetching the control image of {control_month}")
            try:
                control_image = bridge.real_image(form.point, control_month, self.settings)
            except NoImageryError as err:
                raise NoImageryError(
                    f"ControlNet needs a real image {form.control_months_before} month(s) earlier: {err.problem}",
                    "Pick another 'months before' value (1 to 6) or use Text mode.",
                ) from err
        point_view = bridge.describe_point(form.point, self.settings)
        engine, spec = self.engine_for(form, progress)
        scenario_choice = self.scenario_for(form, progress)
        request_core = bridge.generation_request(
            form, observed, scenario_choice, point_view, spec, control_image, control_month
        )
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), f"seed{form.sampling.seed}",
            form.mode, formatting.scenario_stem(scenario_choice),
        )  # fmt: skip
        reference = self._reference(form)
        folder = self.output_folder(request)
        self.stop_if_cancelled(cancel, "before denoising")
        view = bridge.generate_compare(
            request_core, engine, self.settings, folder, stem, reference,
            progress=self.progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        comparison = view.comparison
        today, scenario = comparison.today, comparison.scenario
        # The same band height under both, so they line up side by side and in the slider.
        today_shown = services.label_image(today.image, today.label, (scenario.label,))
        scenario_shown = services.label_image(scenario.image, scenario.label, (today.label,))
        overlay_path = bridge.write_plain_png(scenario.image, folder / f"{stem}_overlay.png")
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
            real_path=self._observed_path(form),
        )
        prompts = scenario.prompts
        prompts_md = (
            f"**Spatial prompt** (CLIP): {prompts.spatial}\n\n**Climate prompt** (T5): {prompts.climate}\n\n"
            f"Model `{spec.model_id}`, seed {form.sampling.seed}, mode {form.mode}"
            + (f" (control image of {control_month})" if control_month else "")
            + f"; {formatting.format_timings(scenario.timings_s or {})}"
        )
        return (
            scenario_shown,
            today_shown,
            (today_shown, scenario_shown),
            formatting.format_comparison(comparison),
            prompts_md,
            str(view.files.png),
            str(view.files.geotiff),
            str(view.files.recipe),
            str(html_map),
            results,
        )

    def _reference(self, form: GenerateForm) -> np.ndarray | None:
        """The real image of the month (cached on disk by core), None when the month has no scene."""
        try:
            return bridge.real_image(form.point, form.month, self.settings)
        except NoImageryError:
            return None

    def _observed_path(self, form: GenerateForm) -> str | None:
        path = (
            self.output_folder("observed") / f"{formatting.point_stem(form.point.lat, form.point.lon)}_{form.month}.png"
        )
        return str(path) if path.exists() else None

    @staticmethod
    def map_for_results(results: GeneratedResults | None):
        """The map after Generate: the generated image on its footprint over the real one, with a fader."""
        if results is None:
            return gr.skip()
        real = image_overlay(served_url(results.real_path), results.bbox, "real") if results.real_path else None
        generated = image_overlay(served_url(results.image_path), results.bbox, results.label)
        return map_value(results.lat, results.lon, results.footprint, fly=True, real=real, generated=generated)


def generate_endpoint(handlers) -> object:
    """The public `/generate` function (its parameters are `GENERATE_FIELDS`)."""
    return form_endpoint(GENERATE_FIELDS, handlers._generate, "generate")


__all__ = ["GENERATE_FIELDS", "GenerateHandlers", "Observation", "generate_endpoint"]
