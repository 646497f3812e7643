"""Observe: the month's real image, climate and land cover, each shown on its own (a month with no
scene still shows its climate and land cover), and the real image drawn on the map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import TOAST_S, refusal_line, shown_errors
from app.forms import ObserveForm, read_number, read_point
from app.handlers import bridge
from app.handlers.context import AppContext
from app.map_picker import image_overlay, map_value, served_url
from app.state import Observation
from core import services
from core.errors import NoImageryError
from core.geo import Footprint

# How many months of climate the chart shows (ending with the observed month).
CHART_MONTHS = 48


@dataclass(frozen=True)
class ObserveShown:
    """What an observation shows; the field order is the `/observe` endpoint's output order."""

    real_image: str | None
    observed_info: str
    climate_plot: Any
    observed_details: dict
    land_cover: str | None
    land_cover_note: str
    cloud_pct: float
    temp_c: str
    precip_mm_day: str
    solar_mj_m2_day: str
    observed_line: str
    observation: Observation
    month: str


def _land_cover_texts(seen) -> tuple[str, str]:
    """(the line in the details, the note in the Climate tab)."""
    if seen.land_cover:
        return (
            f"{seen.land_cover} ({seen.land_cover_source})",
            f"Looked up: **{seen.land_cover}** ({seen.land_cover_source}); you can change it.",
        )
    return (
        f"not found — choose one ({seen.land_cover_problem})",
        f"⚠️ Land cover not found ({seen.land_cover_problem}): choose one.",
    )


class ObserveHandlers:
    """The month's observation at the picked point, and the control image ControlNet would use."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def observe(
        self, lat: Any, lon: Any, month: Any, progress: gr.Progress, request: gr.Request = None
    ) -> ObserveShown:
        """The `/observe` endpoint. An empty month means the latest month that has data at the point.

        Returns (real image, info, climate chart, details, land cover, land-cover note, cloud %,
        temperature, precipitation, radiation, observed line, observation, month).
        """
        return self._observe(lat, lon, month, progress, request)

    def observe_if_picked(
        self, lat: Any, lon: Any, month: Any, progress: gr.Progress, request: gr.Request = None
    ) -> Any:
        """`observe` after a point or month event; nothing at all while no point is picked.

        A failed observation says why in the observed line, where the person looks and where it stays
        until the next pick (not only in a toast that closes by itself): "Observing…" always ends.
        """
        if read_number(lat, "latitude", required=False) is None:
            return gr.skip()
        try:
            return self._observe(lat, lon, month, progress, request)
        except gr.Error as err:
            return {"observed_line": refusal_line(f"Not observed: {err.message}")}

    @shown_errors
    def _observe(self, lat: Any, lon: Any, month: Any, progress: gr.Progress, request: Any = None) -> ObserveShown:
        from app.charts import climate_figure

        point = read_point(lat, lon)
        if not str(month or "").strip():
            progress(0.05, desc="Finding the latest month with NASA POWER data and a Sentinel-2 scene")
            month = str(services.latest_month(point, self.context.settings))
        form = ObserveForm.parse((lat, lon, month))
        progress(0.1, desc=f"Observing {form.month}: Sentinel-2, NASA POWER, land cover")
        seen = services.observe(form.point, form.month, self.context.settings, history_months=CHART_MONTHS)
        scene, climate = seen.scene, seen.climate
        image_path = self._write_observed(scene.image, form, request) if scene is not None else None
        if scene is None:
            gr.Warning(f"No image: {seen.scene_problem}", duration=TOAST_S)
        if climate is None and seen.climate_problem:
            gr.Warning(f"Climate: {seen.climate_problem}", duration=TOAST_S)
        figure = None
        if seen.climate_history is not None:
            figure = climate_figure(
                seen.climate_history, highlight=form.month.first_day, title=f"NASA POWER at {form.point.label()}"
            )
        land_line, land_cover_note = _land_cover_texts(seen)
        info = formatting.format_observation(
            point_label=form.point.label(),
            place_label=f"near {seen.nearest_place}, {seen.place_label}" if seen.nearest_place else seen.place_label,
            month=str(form.month),
            scene=scene,
            scene_problem=seen.scene_problem or "",
            climate_line=(
                formatting.format_climate_values(climate) if climate else f"not available ({seen.climate_problem})"
            ),
            land_cover_line=land_line,
        )
        footprint = Footprint.around(form.point)
        observation = Observation(
            lat=form.point.lat,
            lon=form.point.lon,
            month=str(form.month),
            image=seen.image,
            image_path=str(image_path) if image_path else None,
            acquired=scene.acquired.strftime("%Y-%m-%d") if scene is not None else None,
            climate=climate.as_dict() if climate else None,
            land_cover=seen.land_cover,
            state=seen.state,
            country=seen.country,
            footprint=footprint.geojson(),
            bbox=footprint.bbox,
        )
        temp, precip, solar = formatting.climate_boxes(climate)
        return ObserveShown(
            real_image=str(image_path) if image_path else None,
            observed_info=info,
            climate_plot=figure,
            observed_details=seen.as_dict(),
            land_cover=seen.land_cover,
            land_cover_note=land_cover_note,
            cloud_pct=round(100.0 * scene.cloud_fraction, 1) if scene is not None else 0.0,
            temp_c=temp,
            precip_mm_day=precip,
            solar_mj_m2_day=solar,
            observed_line=formatting.observed_line(str(form.month), scene, climate, seen.land_cover),
            observation=observation,
            month=str(form.month),
        )

    def _write_observed(self, image, form: ObserveForm, request: Any):
        from PIL import Image

        path = self.context.output_folder(request) / formatting.observed_png_name(form.point, form.month)
        if not path.exists():
            Image.fromarray(image).save(path)
        return path

    def climate_chart(
        self, lat: Any, lon: Any, month: Any, temp_c: Any, precip_mm_day: Any, solar_mj_m2_day: Any,
        temp_delta_c: Any, precip_pct: Any, ssp: Any = "",
    ) -> Any:  # fmt: skip
        """The Climate tab's chart with the sliders' scenario marked on the month (redrawn when the scenario
        line changes; the series comes from the disk cache the observation filled). Nothing changes while
        no month is observed, or while a projection is picked (its months are in the Future tab)."""
        from app.charts import climate_figure
        from app.forms import ObservedClimateForm, read_month, read_scenario
        from core.errors import EcoMapperError

        if str(ssp or "").strip() or not str(month or "").strip():
            return gr.skip()
        try:
            point, chosen = read_point(lat, lon), read_month(month)
            today = ObservedClimateForm.read(temp_c, precip_mm_day, solar_mj_m2_day).values()
            scenario = read_scenario(temp_delta_c, precip_pct)
            history = services.climate_series(point, chosen - (CHART_MONTHS - 1), chosen, self.context.settings)
        except EcoMapperError:
            return gr.skip()  # the observation already said what is missing, where it happened
        marked = (scenario.label, services.scenario_climate(today, scenario)) if today is not None else None
        title = f"NASA POWER at {point.label()}" + (f" · ★ {scenario.label}" if marked else "")
        return {"climate_plot": climate_figure(history, highlight=chosen.first_day, title=title, scenario=marked)}

    @shown_errors
    def control_preview(self, lat: Any, lon: Any, month: Any, mode: str, control_months_before: Any) -> dict:
        """ControlNet chosen: show the months-before picker and the control image of that month."""
        if mode != "controlnet":
            return {"control_months_before": gr.update(visible=False),
                    "control_image": gr.update(visible=False, value=None)}  # fmt: skip
        shown = {"control_months_before": gr.update(visible=True)}
        if read_number(lat, "latitude", required=False) is None:
            return {**shown, "control_image": gr.update(visible=True, value=None, label="Control: pick a place first")}
        form = ObserveForm.parse((lat, lon, month))
        control_month = services.control_month_before(form.month, int(control_months_before or 1))
        try:
            image = bridge.real_image(form.point, control_month, self.context.settings)
        except NoImageryError:
            # Not an error yet: the user may pick another month; Generate says it in full.
            return {**shown, "control_image": gr.update(visible=True, value=None, label=f"No image in {control_month}")}
        return {**shown, "control_image": gr.update(visible=True, value=image, label=f"Control: {control_month}")}


def map_for_observation(observation: Observation | None) -> dict:
    """The map after an observation: the marker, footprint and the real image on it."""
    if observation is None:
        return gr.skip()
    real = None
    if observation.image_path:
        real = image_overlay(served_url(observation.image_path), observation.bbox, f"Sentinel-2 {observation.acquired}")
    return {"map_html": map_value(observation.lat, observation.lon, observation.footprint, real=real)}
