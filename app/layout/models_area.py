"""Models tab: the same place and month from every generator this server has (SD3, DiffusionSat,
GeoSynth, ...), next to the real image, with metrics, what each ignores, and the missing ones."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class ModelsTab:
    models_button: gr.Button
    models_cancel: gr.Button
    models_sheet: gr.Image
    models_metrics: gr.Markdown
    models_missing: gr.Markdown
    models_file: gr.File


def build_models_tab() -> ModelsTab:
    with gr.Tab("Models", id="tab-models"):
        with gr.Row():
            gr.Markdown(
                "Every model here, same inputs and seed · AI-generated",
                elem_id="models-intro",
            )
            run = gr.Button("Compare models", variant="primary", elem_id="compare-models", scale=0, size="sm")
            cancel = gr.Button("Cancel", variant="stop", elem_id="models-cancel", scale=0, size="sm")
        sheet = gr.Image(
            label="Models side by side · AI-generated", type="filepath", height=136, elem_id="models-sheet",
            interactive=False, buttons=["download", "fullscreen"],
        )  # fmt: skip
        with gr.Row(equal_height=False):
            metrics = gr.Markdown(elem_id="models-metrics", max_height=96)  # the table scrolls, not the page
            file = gr.File(label="Sheet (PNG)", elem_id="models-file", elem_classes=["export-file"], scale=0,
                           min_width=230)  # fmt: skip
        missing = gr.Markdown(elem_id="models-missing", max_height=40)
    return ModelsTab(
        models_button=run, models_cancel=cancel, models_sheet=sheet, models_metrics=metrics, models_missing=missing,
        models_file=file,
    )  # fmt: skip
