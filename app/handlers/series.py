"""Time-lapse and scenario grid: many generations from one form, each frame and cell labelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import GridForm, TimelapseForm
from app.handlers import bridge, requests
from app.handlers.context import AppContext, progress_bridge, stop_if_cancelled
from app.handlers.projection import ProjectionHandlers
from core import services
from core.climate.scenario import Scenario
from core.errors import EcoMapperError
from core.geo import Month

TIMELAPSE_FIELDS = TimelapseForm.FIELDS
GRID_FIELDS = GridForm.FIELDS


@dataclass(frozen=True)
class TimelapseShown:
    """The `/timelapse` endpoint's outputs, in order: GIF preview, MP4 preview, the file, a summary."""

    timelapse_gif: str | None
    timelapse_mp4: str | None
    timelapse_file: str
    timelapse_summary: str


@dataclass(frozen=True)
class GridShown:
    """The `/scenario_grid` endpoint's outputs, in order: the grid and the same PNG to download."""

    grid_image: str
    grid_file: str


def default_timelapse_range() -> tuple[str, str]:
    """The last complete 12 months."""
    start, end = services.default_timelapse_range()
    return str(start), str(end)


def timelapse_range_for(month: Any) -> dict[str, Any]:
    """The time-lapse's default range follows the picked month: the 12 months ending there (the month has
    been observed, so its climate exists, which 'the last 12 months' may not have yet)."""
    try:
        end = Month.parse(str(month or "").strip())
    except EcoMapperError:
        return gr.skip()
    start, end = services.default_timelapse_range(latest=end)
    return {"start": str(start), "end": str(end)}


def preview_for_format(video_format: str) -> dict[str, Any]:
    """Show the GIF preview (an image) or the MP4 preview (a video player), not both."""
    return {
        "timelapse_gif": gr.update(visible=video_format == "gif"),
        "timelapse_mp4": gr.update(visible=video_format == "mp4"),
    }


def _timelapse_summary(form: TimelapseForm, scenario: Scenario, frames: int, noise: bool) -> str:
    return (
        f"{frames} frames, {form.start} to {form.end}, {scenario.label}"
        + (", real | generated side by side" if form.side_by_side else "")
        + (", each frame grown from the previous one (ControlNet)" if form.chain == "controlnet" else "")
        + f", {form.fps:g} frames/s · AI-generated{' noise (tiny test model)' if noise else ''}."
    )


class SeriesHandlers:
    """The time-lapse and the scenario grid: one base request under today's climate, then what varies."""

    def __init__(self, context: AppContext, projection: ProjectionHandlers) -> None:
        self.context = context
        self.projection = projection

    @shown_errors
    def timelapse(self, request: gr.Request, progress: gr.Progress, **values: Any) -> TimelapseShown:
        with self.context.cancellable(request) as cancel:
            form = TimelapseForm.parse(values, self.context.config.model_id)
            return self._timelapse(form, request, progress, cancel)

    def _timelapse(self, form: TimelapseForm, request: gr.Request, progress, cancel) -> TimelapseShown:
        base = form.base
        base.require_land_cover()
        place = bridge.describe_point(base.point, self.context.settings)
        engine, spec = self.context.engine_for(base.model, form.mode, progress)
        # A picked projection drives every frame (its change differs by calendar month), else the sliders.
        scenario = self.projection.scenario_for(base, progress)
        # Each frame's observed climate is its own month's, looked up by core: none is given here.
        base_request = requests.generation_request(base, None, Scenario.today(), place, spec)
        stem = formatting.safe_filename(
            formatting.point_stem(base.point.lat, base.point.lon), f"{form.start}_{form.end}",
            formatting.scenario_stem(scenario), f"seed{base.sampling.seed}",
        )  # fmt: skip
        stop_if_cancelled(cancel, "before denoising")
        path, frames = bridge.make_timelapse(
            requests.timelapse_request(form, base_request, scenario),
            self.context.output_folder(request) / f"{stem}.{form.video_format}", engine, self.context.settings,
            progress=progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        is_gif = form.video_format == "gif"
        return TimelapseShown(
            timelapse_gif=str(path) if is_gif else None,
            timelapse_mp4=None if is_gif else str(path),
            timelapse_file=str(path),
            timelapse_summary=_timelapse_summary(form, scenario, frames, formatting.is_noise(spec.model_id)),
        )

    @shown_errors
    def grid(self, request: gr.Request, progress: gr.Progress, **values: Any) -> GridShown:
        form = GridForm.parse(values, self.context.config.model_id)
        with self.context.cancellable(request) as cancel:
            return self._grid(form, request, progress, cancel)

    def _grid(self, form: GridForm, request: gr.Request, progress, cancel) -> GridShown:
        base = form.base
        base.require_land_cover()
        observed = base.observed_climate()
        place = bridge.describe_point(base.point, self.context.settings)
        engine, spec = self.context.engine_for(base.model, "text", progress)
        # The grid varies the climate around the picked projection's (core folds it in), else around today's.
        scenario = self.projection.scenario_for(base, progress)
        base_request = requests.generation_request(base, observed, scenario, place, spec)
        stem = formatting.safe_filename(
            formatting.point_stem(base.point.lat, base.point.lon), str(base.month), "grid",
            formatting.scenario_stem(scenario), f"seed{base.sampling.seed}",
        )  # fmt: skip
        stop_if_cancelled(cancel, "before denoising")
        path = bridge.make_grid(
            requests.grid_request(form, base_request), self.context.output_folder(request) / f"{stem}.png", engine,
            self.context.settings, progress=progress_bridge(progress), cancel=cancel,
        )  # fmt: skip
        return GridShown(grid_image=str(path), grid_file=str(path))
