"""Time-lapse and scenario grid: many generations from one form, each frame and cell labelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.endpoints import form_endpoint
from app.errors import shown_errors
from app.forms import GenerateForm, read_month, read_number, read_text
from app.handlers import bridge
from core.climate.scenario import Scenario
from core.errors import BadRequestError

MAX_TIMELAPSE_MONTHS = 36
# Longest list of changes on one grid axis (a 4 x 4 grid is 16 generations).
MAX_GRID_AXIS = 4

TIMELAPSE_FIELDS = (
    "lat", "lon", "start", "end", "climate_source", "temp_delta_c", "precip_pct", "chain", "side_by_side",
    "video_format", "fps", "land_cover", "cloud_pct", "model_id", "seed", "steps", "guidance", "size_px",
    "controlnet", "lora", "lora_scale",
)  # fmt: skip
GRID_FIELDS = (
    "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
    "temp_deltas_text", "precip_pcts_text", "model_id", "seed", "steps", "guidance", "size_px", "lora",
    "lora_scale",
)  # fmt: skip


def read_number_list(text: Any, field: str) -> list[float]:
    """'0, 2, 4' or '0; 2,5; 4' (decimal commas need ';' between values)."""
    raw = str(text or "")
    parts = raw.split(";") if ";" in raw else raw.split(",")
    values = [read_number(p, field) for p in parts if p.strip()]
    if not values:
        raise BadRequestError(f"The list of {field} is empty.", "Write numbers separated by commas, e.g. 0, 2, 4.")
    if len(values) > MAX_GRID_AXIS:
        raise BadRequestError(
            f"{len(values)} {field} is more than {MAX_GRID_AXIS} for one grid.", f"Give at most {MAX_GRID_AXIS}."
        )
    return [float(v) for v in values]  # type: ignore[arg-type]


@dataclass(frozen=True)
class TimelapseForm:
    base: GenerateForm
    start: Any
    end: Any
    climate_source: str
    chain: str
    side_by_side: bool
    video_format: str
    fps: float

    @classmethod
    def parse(cls, values: dict, default_model: str) -> TimelapseForm:
        start, end = read_month(values["start"], "start month"), read_month(values["end"], "end month")
        source = read_text(values["climate_source"]) or "observed"
        chain = read_text(values["chain"]) or "independent"
        video_format = read_text(values["video_format"]) or "gif"
        for name, value, allowed in (
            ("climate", source, ("observed", "scenario")),
            ("frame chaining", chain, ("independent", "controlnet")),
            ("format", video_format, ("gif", "mp4")),
        ):
            if value not in allowed:
                raise BadRequestError(f"Unknown {name} {value!r}.", f"Use one of {', '.join(allowed)}.")
        base_values = {name: values.get(name) for name in GenerateForm.FIELDS}
        base_values.update(month=str(start), mode="text", temp_c=None, precip_mm_day=None, solar_mj_m2_day=None)
        if source == "observed":
            base_values.update(temp_delta_c=0, precip_pct=0)
        months = end - start + 1
        if months < 1:
            raise BadRequestError(f"The end month {end} is before the start month {start}.", "Swap them.")
        if months > MAX_TIMELAPSE_MONTHS:
            raise BadRequestError(
                f"{months} months is too long for one time-lapse in the app.",
                f"Pick at most {MAX_TIMELAPSE_MONTHS} months (the command line has no such limit).",
            )
        return cls(
            base=GenerateForm.parse(base_values, default_model),
            start=start,
            end=end,
            climate_source=source,
            chain=chain,
            side_by_side=bool(values.get("side_by_side")),
            video_format=video_format,
            fps=read_number(values.get("fps"), "frames per second", required=False) or 2.0,
        )


class SeriesHandlers:
    """Mixed into `Handlers`."""

    @shown_errors
    def _timelapse(self, values: dict, request: gr.Request, progress) -> tuple:
        with self.cancellable(request) as cancel:
            return self._timelapse_form(TimelapseForm.parse(values, self.config.model_id), request, progress, cancel)

    def _timelapse_form(self, form: TimelapseForm, request: gr.Request, progress, cancel) -> tuple:
        """Returns (GIF preview, MP4 preview, file to download, summary)."""
        base = form.base
        if not base.land_cover:
            raise BadRequestError("No land cover is chosen.", "Observe the place to look it up, or choose one.")
        place = bridge.describe_point(base.point, self.settings)
        engine, spec = self.engine_for(base, progress, mode="controlnet" if form.chain == "controlnet" else "text")
        base_request = bridge.generation_request(base, None, Scenario.today(), place, spec)
        stem = formatting.safe_filename(
            formatting.point_stem(base.point.lat, base.point.lon), f"{form.start}_{form.end}",
            formatting.scenario_stem(base.scenario), f"seed{base.sampling.seed}",
        )  # fmt: skip
        noise = formatting.is_noise(spec.model_id)
        self.stop_if_cancelled(cancel, "before denoising")
        path, frames = bridge.timelapse(
            base_request, base.scenario, form.start, form.end, form.chain, form.side_by_side, form.fps,
            self.output_folder(request) / f"{stem}.{form.video_format}", engine, self.settings,
            progress=self.progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        summary = (
            f"{frames} frames, {form.start} to {form.end}, {base.scenario.label}"
            + (", real | generated side by side" if form.side_by_side else "")
            + (", each frame grown from the previous one (ControlNet)" if form.chain == "controlnet" else "")
            + f", {form.fps:g} frames/s · AI-generated{' noise (tiny test model)' if noise else ''}."
        )
        is_gif = form.video_format == "gif"
        return (str(path) if is_gif else None, None if is_gif else str(path), str(path), summary)

    @shown_errors
    def _grid(self, values: dict, request: gr.Request, progress) -> tuple:
        base_values = {name: values.get(name) for name in GenerateForm.FIELDS}
        base_values.update(mode="text", temp_delta_c=0, precip_pct=0)
        form = GenerateForm.parse(base_values, self.config.model_id)
        temps = read_number_list(values.get("temp_deltas_text"), "temperature changes (°C)")
        precips = read_number_list(values.get("precip_pcts_text"), "precipitation changes (%)")
        with self.cancellable(request) as cancel:
            return self._grid_form(form, temps, precips, request, progress, cancel)

    def _grid_form(self, form: GenerateForm, temps: list[float], precips: list[float], request, progress, cancel):
        """Returns (grid image, the same PNG to download)."""
        from app.handlers.generate import _observed_climate

        if not form.land_cover:
            raise BadRequestError("No land cover is chosen.", "Observe the place to look it up, or choose one.")
        observed = _observed_climate(form)
        place = bridge.describe_point(form.point, self.settings)
        engine, spec = self.engine_for(form, progress, mode="text")
        base_request = bridge.generation_request(form, observed, Scenario.today(), place, spec)
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), "grid", f"seed{form.sampling.seed}"
        )
        self.stop_if_cancelled(cancel, "before denoising")
        path = bridge.scenario_grid(
            base_request, temps, precips, engine, self.settings, self.output_folder(request) / f"{stem}.png",
            progress=self.progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        return str(path), str(path)


def timelapse_endpoint(handlers):
    return form_endpoint(TIMELAPSE_FIELDS, handlers._timelapse, "timelapse")


def grid_endpoint(handlers):
    return form_endpoint(GRID_FIELDS, handlers._grid, "scenario_grid")


__all__ = ["GRID_FIELDS", "TIMELAPSE_FIELDS", "SeriesHandlers"]
