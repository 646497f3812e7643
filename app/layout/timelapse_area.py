"""Time-lapse tab: a generated frame per month (default: the last complete 12 months)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class TimelapseTab:
    start: gr.Textbox
    end: gr.Textbox
    climate_source: gr.Radio
    chain: gr.Radio
    side_by_side: gr.Checkbox
    video_format: gr.Radio
    fps: gr.Slider
    timelapse_button: gr.Button
    timelapse_cancel: gr.Button
    timelapse_gif: gr.Image
    timelapse_mp4: gr.Video
    timelapse_file: gr.File
    timelapse_summary: gr.Markdown


def build_timelapse_tab(default_range: tuple[str, str]) -> TimelapseTab:
    with gr.Tab("Time-lapse", id="tab-timelapse", elem_id="timelapse-tab"):
        with gr.Row():
            start = gr.Textbox(label="Start month", value=default_range[0], elem_id="tl-start", min_width=80, scale=1)
            end = gr.Textbox(label="End month", value=default_range[1], elem_id="tl-end", min_width=80, scale=1)
            source = gr.Radio(
                [("Observed", "observed"), ("Scenario", "scenario")], value="scenario", label="Climate",
                elem_id="tl-source", min_width=120, scale=2,
            )  # fmt: skip
            chain = gr.Radio(
                [("Independent", "independent"), ("ControlNet chain", "controlnet")],
                value="independent",
                label="Frames",
                elem_id="tl-chain",
                min_width=150,
                scale=3,
            )
        # One line of options (the format's choices side by side), so the preview fits 1366 x 768 (issue 25).
        with gr.Row(equal_height=True):
            side_by_side = gr.Checkbox(label="Real | generated", value=False, elem_id="tl-side", min_width=100)
            video_format = gr.Radio(["gif", "mp4"], value="gif", label="Format", elem_id="tl-format", min_width=150)
            fps = gr.Slider(0.5, 10, value=2, step=0.5, label="Frames/s", min_width=100)
            run = gr.Button("Make time-lapse", variant="primary", elem_id="timelapse", min_width=140)
            cancel = gr.Button("Cancel", variant="stop", elem_id="tl-cancel", min_width=70, scale=0)
        summary = gr.Markdown(elem_id="tl-summary", min_height=20)
        with gr.Row():
            gif = gr.Image(label="Preview · AI-generated", type="filepath", elem_id="tl-gif", height=140)
            mp4 = gr.Video(label="Preview · AI-generated", elem_id="tl-mp4", visible=False, height=140)
            file = gr.File(label="Download", elem_id="tl-file", elem_classes=["export-file"])
    return TimelapseTab(
        start=start, end=end, climate_source=source, chain=chain, side_by_side=side_by_side,
        video_format=video_format, fps=fps, timelapse_button=run, timelapse_cancel=cancel, timelapse_gif=gif,
        timelapse_mp4=mp4, timelapse_file=file, timelapse_summary=summary,
    )  # fmt: skip
