"""Region tab: a width x height km area around the picked point, in tiles joined without seams, shown on the
map over the real mosaic (wired by `app.layout.region_wiring`)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class RegionTab:
    region_width_km: gr.Number
    region_height_km: gr.Number
    region_method: gr.Dropdown
    region_button: gr.Button
    region_cancel: gr.Button
    region_image: gr.Image
    region_file: gr.DownloadButton
    region_summary: gr.Markdown


def build_region_tab(methods: list[tuple[str, str]], default_method: str) -> RegionTab:
    """The Region tab; `methods` are (shown name, value) pairs of the joining methods."""
    with gr.Tab("Region", id="tab-region"):
        with gr.Row():
            width = gr.Number(label="Width (km)", value=10.24, minimum=5.12, maximum=20, elem_id="region-width",
                              min_width=90)  # fmt: skip
            height = gr.Number(label="Height (km)", value=7.68, minimum=5.12, maximum=20, elem_id="region-height",
                               min_width=90)  # fmt: skip
            method = gr.Dropdown(methods, value=default_method, label="Join tiles", elem_id="region-method",
                                 min_width=150)  # fmt: skip
            run = gr.Button("Make region", variant="primary", elem_id="region", scale=0)
            cancel = gr.Button("Cancel", variant="stop", elem_id="region-cancel", scale=0)
        with gr.Row(equal_height=False):
            image = gr.Image(label="Region · AI-generated", type="filepath", height=170, elem_id="region-image",
                             scale=3, interactive=False)  # fmt: skip
            with gr.Column(scale=2, min_width=220):
                summary = gr.Markdown(elem_id="region-summary")
                file = gr.DownloadButton("Download GeoTIFF", elem_id="region-file", size="sm")
    return RegionTab(
        region_width_km=width, region_height_km=height, region_method=method, region_button=run,
        region_cancel=cancel, region_image=image, region_file=file, region_summary=summary,
    )  # fmt: skip
