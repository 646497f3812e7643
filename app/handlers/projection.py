"""The projection picker: a CMIP6 SSP x horizon at the picked place -> its Scenario and the chart of its spread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import GenerateForm, ModelsForm, read_month, read_point
from app.handlers.context import AppContext
from app.handlers.scenario import preset_label_for, preset_labels, projection_shown
from app.projection_chart import projection_figure
from app.projection_form import ProjectionChoice
from core import services
from core.climate.scenario import Scenario
from core.geo import Point

NO_PROJECTION = ("Sliders (no projection)", "")


def ssp_choices() -> list[tuple[str, str]]:
    """The dropdown: the sliders' own scenario first, then the four SSPs."""
    return [NO_PROJECTION, *services.SSP_CHOICES]


def horizon_choices() -> tuple[int, ...]:
    return tuple(services.HORIZON_CHOICES)


@dataclass(frozen=True)
class ProjectionShown:
    """The `/projection` endpoint's outputs, in order."""

    projection_chart: Any
    projection_summary: str
    scenario_line: Any


class ProjectionHandlers:
    """CMIP6 projections at the picked place (cached on disk by core, so Generate after Show reads no chunk again)."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def projected(self, point: Point, choice: ProjectionChoice, progress=None):
        return services.projected_climate(
            point, choice.ssp, choice.horizon, self.context.settings, observed_years=choice.observed_years,
            progress=progress,
        )  # fmt: skip

    def scenario_for(self, form: GenerateForm | ModelsForm, progress=None) -> Scenario:
        """The scenario every generating tab uses: the picked projection's, else the sliders'."""
        if form.projection is None:
            return form.scenario
        if progress is not None:
            progress(0.01, desc=f"Projecting {form.projection.ssp} {form.projection.horizon} (CMIP6 ensemble)")
        return self.projected(form.point, form.projection).scenario

    @shown_errors
    def show_projection(
        self, lat: Any, lon: Any, ssp: Any, horizon: Any, normals_years: Any, month: Any
    ) -> ProjectionShown:
        """(chart, summary, scenario line) of the picked SSP x horizon at the picked place."""
        choice = ProjectionChoice.read(ssp, horizon, normals_years)
        if choice is None:
            return ProjectionShown(None, "No SSP is picked: Generate uses the sliders' scenario.", gr.skip())
        point = read_point(lat, lon)
        projected = self.projected(point, choice)
        line = f"Scenario: **{projected.label}** (CMIP6 median)"
        if str(month or "").strip():
            picked = read_month(month)
            change = projected.scenario.change_for(picked)
            line = f"Scenario: **{projected.label}** (CMIP6 median, month {picked.month:02d}): {change.label()}"
        title = f"{point.lat:.3f}, {point.lon:.3f}: {projected.label}"
        return ProjectionShown(
            projection_chart=projection_figure(projected.monthly_table(), projected.label, title),
            projection_summary=projected.summary(),
            scenario_line=line,
        )

    @shown_errors
    def controls_for_projection(
        self,
        lat: Any,
        lon: Any,
        ssp: Any,
        horizon: Any,
        normals_years: Any,
        month: Any,
        temp_delta_c: Any,
        precip_pct: Any,
    ) -> dict[str, Any]:
        """After the picker: the scenario controls say the projection is in use (its name as the preset,
        the sliders at the month's median change), or, with no SSP, are the sliders' own again."""
        choice = ProjectionChoice.read(ssp, horizon, normals_years)
        if choice is None:
            temp_label, precip_label = formatting.slider_labels()
            return {
                "preset": gr.update(choices=preset_labels(), value=preset_label_for(temp_delta_c, precip_pct)),
                "temp_delta_c": gr.update(label=temp_label),
                "precip_pct": gr.update(label=precip_label),
            }
        projected = self.projected(read_point(lat, lon), choice)  # cached by core since the picker drew it
        if not str(month or "").strip():
            return projection_shown(projected.label, None, None)
        change = projected.scenario.change_for(read_month(month))
        return projection_shown(projected.label, change.temp_delta_c, change.precip_change_pct)
