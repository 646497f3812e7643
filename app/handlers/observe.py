"""Observe: the month's real image, climate and land cover, each shown on its own (a month with no
scene still shows its climate and land cover), and the real image drawn on the map."""

from __future__ import annotations

import time

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import ObserveForm, read_number
from app.handlers import bridge
from app.map_picker import image_overlay, map_value, served_url
from app.state import Observation
from core.errors import NoImageryError


class ObserveHandlers:
    """Mixed into `Handlers`."""

    def observe(self, lat, lon, month, progress: gr.Progress = gr.Progress()) -> tuple:
        """The `/observe` endpoint. Returns (real image, info, climate chart, details, land cover,
        land-cover note, cloud %, temperature, precipitation, radiation, observed line, observation)."""
        return self._observe(ObserveForm.parse((lat, lon, month)), progress)

    def observe_if_picked(self, lat, lon, month, progress: gr.Progress = gr.Progress()) -> tuple:
        """`observe` after a point or month event; nothing at all while no point is picked."""
        if read_number(lat, "latitude", required=False) is None:
            return gr.skip()
        return self.observe(lat, lon, month, progress)

    @shown_errors
    def _observe(self, form: ObserveForm, progress) -> tuple:
        from app.charts import climate_figure

        started = time.perf_counter()
        progress(0.1, desc=f"Observing {form.month}: Sentinel-2, NASA POWER, land cover")
        view = bridge.observe(form.point, form.month, self.settings)
        scene, climate = view.scene, view.climate
        image_path = None
        if scene is not None:
            image_path = self._write_observed(scene.image, form)
        if scene is None:
            gr.Warning(f"No image: {view.scene_problem}")
        if climate is None and view.climate_problem:
            gr.Warning(f"Climate: {view.climate_problem}")
        figure = None
        if view.climate_series is not None:
            figure = climate_figure(
                view.climate_series, highlight=form.month.first_day, title=f"NASA POWER at {form.point.label()}"
            )
        land_line = (
            f"{view.land_cover} ({view.land_cover_source})"
            if view.land_cover
            else f"not found — choose one ({view.land_cover_message})"
        )
        info = formatting.format_observation(
            point_label=form.point.label(),
            place_label=view.point.place_label,
            month=str(form.month),
            scene=scene,
            scene_problem=view.scene_problem,
            climate_line=formatting.format_climate_values(climate)
            if climate
            else f"not available ({view.climate_problem})",
            land_cover_line=land_line,
        )
        observation = Observation(
            lat=form.point.lat,
            lon=form.point.lon,
            month=str(form.month),
            image=scene.image if scene is not None else None,
            image_path=str(image_path) if image_path else None,
            acquired=scene.acquired.strftime("%Y-%m-%d") if scene is not None else None,
            climate=climate.as_dict() if climate else None,
            land_cover=view.land_cover,
            state=view.point.state,
            country=view.point.country,
            footprint=view.point.footprint_geojson,
            bbox=view.point.footprint_bbox,
        )
        details = {
            "point": {"lat": form.point.lat, "lon": form.point.lon},
            "month": str(form.month),
            "scene": scene.to_metadata() if scene is not None else None,
            "scene_problem": view.scene_problem or None,
            "climate": climate.as_dict() if climate else None,
            "climate_problem": view.climate_problem or None,
            "land_cover": {
                "class": view.land_cover,
                "source": view.land_cover_source,
                "shares": view.land_cover_shares,
            },
            "place": {"state": view.point.state, "country": view.point.country},
            "elapsed_s": round(time.perf_counter() - started, 3),
        }
        land_cover_note = (
            f"Looked up: **{view.land_cover}** ({view.land_cover_source}); you can change it."
            if view.land_cover
            else f"⚠️ Land cover not found ({view.land_cover_message}): choose one."
        )
        cloud = round(100.0 * scene.cloud_fraction, 1) if scene is not None else 0.0
        temp, precip, solar = formatting.climate_boxes(climate)
        return (
            str(image_path) if image_path else None,
            info,
            figure,
            details,
            view.land_cover,
            land_cover_note,
            cloud,
            temp,
            precip,
            solar,
            formatting.observed_line(str(form.month), scene, view.scene_problem, climate, view.land_cover),
            observation,
        )

    def _write_observed(self, image, form: ObserveForm):
        from PIL import Image

        folder = self.output_folder("observed")
        path = folder / f"{formatting.point_stem(form.point.lat, form.point.lon)}_{form.month}.png"
        if not path.exists():
            Image.fromarray(image).save(path)
        return path

    @staticmethod
    def map_for_observation(observation: Observation | None):
        """The map after an observation: the marker, footprint and the real image on it."""
        if observation is None:
            return gr.skip()
        real = None
        if observation.image_path:
            real = image_overlay(
                served_url(observation.image_path), observation.bbox, f"Sentinel-2 {observation.acquired}"
            )
        return map_value(observation.lat, observation.lon, observation.footprint, real=real)

    @shown_errors
    def control_preview(self, lat, lon, month, mode, months_before) -> tuple:
        """ControlNet chosen: show the months-before picker and the control image of that month."""
        if mode != "controlnet":
            return gr.update(visible=False), gr.update(visible=False, value=None)
        if read_number(lat, "latitude", required=False) is None:
            return gr.update(visible=True), gr.update(visible=True, value=None, label="Control: pick a place first")
        form = ObserveForm.parse((lat, lon, month))
        control_month = form.month - int(months_before or 1)
        try:
            image = bridge.control_image(form.point, control_month, 512, self.settings)
        except NoImageryError:
            # Not an error yet: the user may pick another month; Generate says it in full.
            return gr.update(visible=True), gr.update(visible=True, value=None, label=f"No image in {control_month}")
        return gr.update(visible=True), gr.update(visible=True, value=image, label=f"Control: {control_month}")
