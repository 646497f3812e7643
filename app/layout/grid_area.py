"""Scenario grid tab: temperature changes (rows) x precipitation changes (columns) of one month,
as one labelled image with row and column headers, downloadable."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass
class GridArea:
    temps: gr.Textbox
    precips: gr.Textbox
    run: gr.Button
    cancel: gr.Button
    image: gr.Image
    file: gr.File


def build_grid_area() -> GridArea:
    with gr.Tab("Grid", id="tab-grid"):
        with gr.Row():
            temps = gr.Textbox(label="Temperature changes (°C, rows)", value="0, 4", elem_id="grid-temps")
            precips = gr.Textbox(label="Precipitation changes (%, columns)", value="-30, 0", elem_id="grid-precips")
            run = gr.Button("Make grid", variant="primary", elem_id="grid", scale=0)
            cancel = gr.Button("Cancel", variant="stop", elem_id="grid-cancel", scale=0)
        with gr.Row():
            image = gr.Image(
                label="Scenario grid · AI-generated", type="filepath", height=250, elem_id="grid-image",
                interactive=False,
            )  # fmt: skip
            file = gr.File(label="Download (PNG)", elem_id="grid-file", height=70, scale=0, min_width=160)
    return GridArea(temps, precips, run, cancel, image, file)
