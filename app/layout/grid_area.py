"""Scenario grid tab: temperature changes (rows) x precipitation changes (columns) of one month,
as one labelled image with row and column headers, downloadable."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class GridTab:
    temp_deltas_text: gr.Textbox
    precip_pcts_text: gr.Textbox
    grid_button: gr.Button
    grid_cancel: gr.Button
    grid_image: gr.Image
    grid_file: gr.File
    grid_status: gr.Markdown  # a refused grid says why here (`show_refusals`); no space while empty


def build_grid_tab() -> GridTab:
    with gr.Tab("Grid", id="tab-grid"):
        with gr.Row():
            # labels on one line each: a wrapped label pushed the tab past 768 px
            temps = gr.Textbox(label="Rows: temperature change (°C)", value="0, 4", elem_id="grid-temps")
            precips = gr.Textbox(label="Columns: rain change (%)", value="-30, 0", elem_id="grid-precips")
            run = gr.Button("Make grid", variant="primary", elem_id="grid", scale=0)
            cancel = gr.Button("Cancel", variant="stop", elem_id="grid-cancel", scale=0)
        status = gr.Markdown("", elem_id="grid-status", elem_classes=["refusal-line"])
        with gr.Row():
            # 210 px: room for a refusal line above it (a 250 px grid then pushed the tab past 768 px)
            # the grid carries its own title band ("AI-generated · ..."), which a label over it would hide
            image = gr.Image(
                label="Scenario grid · AI-generated", show_label=False, type="filepath", height=210,
                elem_id="grid-image", interactive=False,
            )  # fmt: skip
            file = gr.File(label="Download (PNG)", elem_id="grid-file", elem_classes=["export-file"], height=70,
                           scale=0, min_width=200)  # fmt: skip
    return GridTab(
        temp_deltas_text=temps, precip_pcts_text=precips, grid_button=run, grid_cancel=cancel, grid_image=image,
        grid_file=file, grid_status=status,
    )  # fmt: skip
