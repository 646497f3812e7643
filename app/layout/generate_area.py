"""Scenario and Generate area: presets for class use, the two change sliders, Generate with the
ControlNet choice beside it (its control image and month shown), Cancel and the progress line."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.formatting import PRECIP_PCT_LABEL, TEMP_DELTA_LABEL


@dataclass(frozen=True)
class GenerateArea:
    preset: gr.Radio
    temp_delta_c: gr.Slider
    precip_pct: gr.Slider
    scenario_line: gr.Markdown
    generate_button: gr.Button
    mode: gr.Radio
    control_months_before: gr.Dropdown
    control_image: gr.Image
    generate_cancel: gr.Button
    status: gr.Markdown


def build_generate_area(preset_labels: list[str]) -> GenerateArea:
    preset = gr.Radio(preset_labels, value=preset_labels[0], label="Scenario", elem_id="presets", container=False)
    with gr.Row():
        temp_delta_c = gr.Slider(-10, 10, value=0, step=0.5, label=TEMP_DELTA_LABEL, elem_id="temp-delta")
        precip_pct = gr.Slider(-100, 200, value=0, step=5, label=PRECIP_PCT_LABEL, elem_id="precip-pct")
    scenario_line = gr.Markdown("", elem_id="scenario-line")
    with gr.Row(equal_height=True):
        generate_button = gr.Button("Generate", variant="primary", elem_id="generate", scale=2, min_width=110)
        mode = gr.Radio(
            [("Text", "text"), ("ControlNet", "controlnet"), ("Edit", "edit"), ("Invert", "invert")],
            value="text",
            label="Mode",
            show_label=False,
            container=False,
            elem_id="mode",
            scale=4,  # four modes on one line (Edit / Invert joined Text / ControlNet): the page stays one screen
            min_width=150,
        )
        control_months_before = gr.Dropdown(
            [(f"{n} month{'s' if n > 1 else ''} before", n) for n in range(1, 7)],
            value=1,
            label="Control image",
            elem_id="control-before",
            visible=False,
            scale=2,
            min_width=120,
        )
        control_image = gr.Image(
            label="Control",
            type="numpy",
            interactive=False,
            visible=False,
            height=90,
            elem_id="control-image",
            scale=1,
            min_width=90,
            buttons=[],
        )
        generate_cancel = gr.Button("Cancel", variant="stop", elem_id="cancel", scale=1, min_width=70)
    status = gr.Markdown("", elem_id="generate-status", min_height=20)
    return GenerateArea(
        preset=preset,
        temp_delta_c=temp_delta_c,
        precip_pct=precip_pct,
        scenario_line=scenario_line,
        generate_button=generate_button,
        mode=mode,
        control_months_before=control_months_before,
        control_image=control_image,
        generate_cancel=generate_cancel,
        status=status,
    )
