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
from core.climate_values import ClimateValues
from core.errors import BadRequestError, NoImageryError

GENERATE_FIELDS = GenerateForm.FIELDS
HOW_TO_READ = (
    "SSIM (0–1) and PSNR (dB) compare pixels: higher means closer. Between today and the scenario, low values "
    "mean the scenario changed the picture a lot; against the real image they say how close the model came, "
    "not whether it looks realistic."
)


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

    def _generate(self, values: dict, request: gr.Request, progress) -> tuple:
        """Returns (scenario image, today image, slider pair, metrics, prompts, PNG, GeoTIFF, recipe,
        HTML map, results state)."""
        return self._generate_form(GenerateForm.parse(values, self.config.model_id), request, progress)

    @shown_errors
    def _generate_form(self, form: GenerateForm, request: gr.Request, progress) -> tuple:
        if not form.land_cover:
            raise BadRequestError(
                "No land cover is chosen.", "Observe the place to look it up, or choose one from the list."
            )
        observed = _observed_climate(form)
        scenario = (form.scenario.temp_delta_c, form.scenario.precip_pct)
        control_image, control_month = None, None
        if form.mode == "controlnet":
            if not form.model.controlnet:
                raise BadRequestError(
                    "ControlNet mode needs ControlNet weights, and none are set.",
                    "Give a ControlNet folder or Hub id in Settings (tiny-random for the tiny test model), "
                    "or use Text mode.",
                )
            control_month = form.month - form.control_months_before
            progress(0.02, desc=f"Fetching the control image of {control_month}")
            try:
                control_image = bridge.control_image(form.point, control_month, form.sampling.size_px, self.settings)
            except NoImageryError as err:
                raise NoImageryError(
                    f"ControlNet needs a real image {form.control_months_before} month(s) earlier: {err.problem}",
                    "Pick another 'months before' value (1 to 6) or use Text mode.",
                ) from err
        point_view = bridge.describe_point(form.point)
        request_core = bridge.generation_request(form, observed, point_view, control_image, control_month)
        engine = self.engine_for(form, progress)
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), f"seed{form.sampling.seed}",
            form.mode, formatting.scenario_stem(*scenario),
        )  # fmt: skip
        reference = self._reference(form)
        view = self.run_cancellable(
            request,
            lambda cancel: bridge.generate_compare(
                request_core,
                observed,
                scenario,
                engine,
                self.settings,
                self.output_folder(request),
                stem,
                reference,
                progress=self.progress_bridge(progress),
                cancel=cancel,
            ),
        )
        labels = formatting.result_labels(point_view.place_label, str(form.month), scenario, view.model_id)
        today_shown = bridge.labelled(view.today, labels.today)
        scenario_shown = bridge.labelled(view.scenario, labels.scenario)
        folder = self.output_folder(request)
        overlay_path = bridge.write_plain_png(view.scenario, folder / f"{stem}_overlay.png")
        html_map = write_result_map(
            folder / f"{stem}_map.html",
            bbox=point_view.footprint_bbox,
            footprint=point_view.footprint_geojson,
            real=reference,
            today=view.today,
            scenario=view.scenario,
            labels=labels,
        )
        results = GeneratedResults(
            lat=form.point.lat,
            lon=form.point.lon,
            month=str(form.month),
            footprint=point_view.footprint_geojson,
            bbox=point_view.footprint_bbox,
            image_path=str(overlay_path),
            label=labels.scenario,
            real_path=self._observed_path(form),
        )
        prompts_md = (
            f"**Spatial prompt** (CLIP): {view.prompts_spatial}\n\n"
            f"**Climate prompt** (T5): {view.prompts_climate}\n\n"
            f"Model `{view.model_id}`, seed {view.seed}, mode {form.mode}"
            + (f" (control image of {control_month})" if control_month else "")
        )
        return (
            scenario_shown,
            today_shown,
            (today_shown, scenario_shown),
            formatting.format_compare_metrics(view.metrics, HOW_TO_READ),
            prompts_md,
            str(view.files["png"]),
            str(view.files["tif"]),
            str(view.files["recipe"]),
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
        return map_value(results.lat, results.lon, results.footprint, real=real, generated=generated)


def generate_endpoint(handlers) -> object:
    """The public `/generate` function (its parameters are `GENERATE_FIELDS`)."""
    return form_endpoint(GENERATE_FIELDS, handlers._generate, "generate")


__all__ = ["GENERATE_FIELDS", "GenerateHandlers", "Observation", "generate_endpoint"]
