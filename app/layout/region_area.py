"""Region tab: a width x height km area around the picked point, in tiles joined without seams, shown on the
map over the real mosaic (wired by `app.layout.region_wiring`)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class RegionTab:
    region_width_km: gr.Number
    region_height_km: gr.Number
    region_method: gr.Radio
    region_button: gr.Button
    region_cancel: gr.Button
    region_image: gr.Image
    region_file: gr.File
    region_summary: gr.Markdown


def build_region_tab(methods: tuple[str, ...], default_method: str) -> RegionTab:
    with gr.Tab("Region", id="tab-region"):
        with gr.Row():
            width = gr.Number(label="Width (km)", value=10.24, minimum=5.12, maximum=20, elem_id="region-width")
            height = gr.Number(label="Height (km)", value=7.68, minimum=5.12, maximum=20, elem_id="region-height")
            method = gr.Radio(list(methods), value=default_method, label="Join", elem_id="region-method")
            run = gr.Button("Make region", variant="primary", elem_id="region", scale=0)
            cancel = gr.Button("Cancel", variant="stop", elem_id="region-cancel", scale=0)
        with gr.Row():
            image = gr.Image(label="Region · AI-generated", type="filepath", height=220, elem_id="region-image",
                             interactive=False)  # fmt: skip
            with gr.Column(scale=0, min_width=200):
                file = gr.File(label="Download (GeoTIFF)", elem_id="region-file", height=70)
                summary = gr.Markdown(elem_id="region-summary")
    return RegionTab(
        region_width_km=width, region_height_km=height, region_method=method, region_button=run,
        region_cancel=cancel, region_image=image, region_file=file, region_summary=summary,
    )  # fmt: skip
