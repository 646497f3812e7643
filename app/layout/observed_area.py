"""Observed area: the month, what was observed there (one line), land cover; and the Climate tab
with the month's climate (the "today" of a scenario), cloud cover, the chart and the details."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class ObservedArea:
    month: gr.Textbox
    observe_button: gr.Button
    land_cover: gr.Dropdown
    observed_line: gr.Markdown
    observation: gr.State


@dataclass(frozen=True)
class ClimateTab:
    temp_c: gr.Textbox
    precip_mm_day: gr.Textbox
    solar_mj_m2_day: gr.Textbox
    cloud_pct: gr.Slider
    observed_info: gr.Markdown
    land_cover_note: gr.Markdown
    climate_plot: gr.Plot
    observed_details: gr.JSON


def build_observed_area(land_cover_classes: tuple[str, ...]) -> ObservedArea:
    with gr.Row(equal_height=True):
        # Empty: the first observation fills in the latest month with data at the picked place.
        month = gr.Textbox(
            label="Month (YYYY-MM)", placeholder="latest with data", elem_id="month", scale=2, min_width=110
        )
        observe_button = gr.Button("Observe", elem_id="observe", scale=0, min_width=80)
        land_cover = gr.Dropdown(
            label="Land cover (looked up; you can change it)",
            choices=list(land_cover_classes),
            value=None,
            elem_id="land-cover",
            scale=4,
        )
    observed_line = gr.Markdown("", elem_id="observed-line")
    return ObservedArea(
        month=month,
        observe_button=observe_button,
        land_cover=land_cover,
        observed_line=observed_line,
        observation=gr.State(None),
    )


def build_climate_tab() -> ClimateTab:
    with gr.Tab("Climate", id="tab-climate"):
        # The month's numbers in a narrow column beside the chart, the longer texts folded: the tab fits
        # 1366 x 768 without scrolling (the observed line above the tabs already says the essentials).
        with gr.Row():
            with gr.Column(scale=1, min_width=170):
                # The month's NASA POWER climate: the "today" a scenario changes. Filled by each observation.
                temp_c = gr.Textbox(label="Temperature (°C)", elem_id="temp", min_width=80)
                precip_mm_day = gr.Textbox(label="Precipitation (mm/day)", elem_id="precip", min_width=80)
                solar_mj_m2_day = gr.Textbox(label="Solar radiation (MJ/m²/day)", elem_id="solar", min_width=80)
                cloud_pct = gr.Slider(0, 100, value=0, step=1, label="Cloud cover (%)", elem_id="cloud")
            with gr.Column(scale=3, min_width=320):
                # the figure carries its own title (place, ★ scenario): no label over it
                climate_plot = gr.Plot(label="Climate over recent years (NASA POWER)", show_label=False,
                                       elem_id="climate-plot")  # fmt: skip
        with gr.Accordion("The observation: place, scene, land cover, details", open=False):
            with gr.Row():
                observed_info = gr.Markdown(elem_id="observed-info")
                land_cover_note = gr.Markdown(elem_id="land-cover-note")
            observed_details = gr.JSON(label="Observation")
    return ClimateTab(
        temp_c=temp_c,
        precip_mm_day=precip_mm_day,
        solar_mj_m2_day=solar_mj_m2_day,
        cloud_pct=cloud_pct,
        observed_info=observed_info,
        land_cover_note=land_cover_note,
        climate_plot=climate_plot,
        observed_details=observed_details,
    )
