"""The projection tab: a CMIP6 SSP x horizon picker and the chart of the ensemble median and its spread."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.projection_form import DEFAULT_NORMALS


@dataclass(frozen=True)
class ProjectionTab:
    ssp: gr.Dropdown
    horizon: gr.Dropdown
    normals_years: gr.Textbox
    projection_button: gr.Button
    projection_summary: gr.Markdown
    projection_chart: gr.Plot


def build_projection_tab(ssp_choices: list[tuple[str, str]], horizons: tuple[int, ...]) -> ProjectionTab:
    with gr.Tab("Future", elem_id="projection-tab"):
        with gr.Row(equal_height=True):
            ssp = gr.Dropdown(ssp_choices, value="", label="CMIP6 scenario (SSP)", elem_id="projection-ssp", scale=3)
            horizon = gr.Dropdown(list(horizons), value=horizons[0], label="Horizon", elem_id="projection-horizon",
                                  scale=2, min_width=90)  # fmt: skip
            normals_years = gr.Textbox(DEFAULT_NORMALS, label="Observed normals (years)",
                                       elem_id="projection-normals", scale=2, min_width=110)  # fmt: skip
            show = gr.Button("Show", elem_id="projection-show", scale=1, min_width=70)
        summary = gr.Markdown(
            "Pick an SSP and a horizon: Generate then uses the ensemble median change of the month.",
            elem_id="projection-summary",
        )
        chart = gr.Plot(
            label="Observed normal, ensemble median and 10-90 % spread", show_label=False, elem_id="projection-chart"
        )
    return ProjectionTab(
        ssp=ssp, horizon=horizon, normals_years=normals_years, projection_button=show, projection_summary=summary,
        projection_chart=chart,
    )  # fmt: skip
