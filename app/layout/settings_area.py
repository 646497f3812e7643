"""Settings tab: the model and its weights, seed, steps, guidance and size."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.forms import SIZE_CHOICES_PX


@dataclass(frozen=True)
class SettingsTab:
    model_id: gr.Dropdown
    controlnet: gr.Textbox
    lora: gr.Textbox
    lora_scale: gr.Slider
    seed: gr.Number
    steps: gr.Slider
    guidance: gr.Slider
    size_px: gr.Radio
    model_notes: gr.Markdown  # the quick preview (on, or why not) and the GPU option in use


def build_settings_tab(model_choices: list[str], model_id: str, notes: str = "") -> SettingsTab:
    with gr.Tab("Settings", id="tab-settings"):
        with gr.Row():
            model = gr.Dropdown(
                label="Model", choices=model_choices, value=model_id, allow_custom_value=True, elem_id="model"
            )
            controlnet = gr.Textbox(
                label="ControlNet weights (folder or Hub id; tiny-random for the test model)",
                value="tiny-random" if model_id == "tiny-random" else "",
                elem_id="controlnet",
            )
        with gr.Row():
            lora = gr.Textbox(label="LoRA (file, folder or Hub id; optional)", value="", elem_id="lora")
            lora_scale = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="LoRA scale")
        with gr.Row():
            # no precision=0: Gradio would round 1.5 to 2 before we see it; the form refuses decimals
            seed = gr.Number(label="Seed", value=0, minimum=0, step=1, elem_id="seed")
            steps = gr.Slider(1, 100, value=28, step=1, label="Denoising steps", elem_id="steps")
            guidance = gr.Slider(0.0, 15.0, value=7.5, step=0.5, label="Guidance scale")
            size_px = gr.Radio(list(SIZE_CHOICES_PX), value=512, label="Size (px)", elem_id="size")
        model_notes = gr.Markdown(notes, elem_id="model-notes")
    return SettingsTab(
        model_id=model, controlnet=controlnet, lora=lora, lora_scale=lora_scale, seed=seed, steps=steps,
        guidance=guidance, size_px=size_px, model_notes=model_notes,
    )  # fmt: skip
