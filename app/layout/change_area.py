"""Issue 20 in the app: the options of modes Edit / Invert (under Generate, shown only in those modes) and the
"Change" tab (N seeds of today and of the scenario: the mean change, its spread and how far the seeds agree)."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.handlers.change import APP_DEFAULT_SAMPLES, APP_MAX_SAMPLES, APP_MIN_SAMPLES
from app.layout.results_area import RESULT_HEIGHT


@dataclass(frozen=True)
class EditOptionsArea:
    edit_options: gr.Accordion
    n_max: gr.Number
    n_min: gr.Number
    n_avg: gr.Number
    source_guidance: gr.Textbox
    target_guidance: gr.Textbox


@dataclass(frozen=True)
class ChangeTab:
    samples: gr.Slider
    change_button: gr.Button
    change_sentence: gr.Markdown
    change_image: gr.Image
    spread_image: gr.Image
    change_json: gr.File
    change_results: gr.State


def _number(label: str, elem_id: str, value: int, info: str) -> gr.Number:
    return gr.Number(value=value, label=label, info=info, precision=0, elem_id=elem_id, min_width=100)


def _guidance(label: str, elem_id: str, info: str) -> gr.Textbox:
    # text, not a number box: empty (the mode's default) must stay a value a gradio_client call may leave out
    return gr.Textbox("", label=label, info=info, placeholder="default", elem_id=elem_id, min_width=100)


def build_edit_options() -> EditOptionsArea:
    """FlowEdit's names (Kulikov et al. 2024); 0 or an empty box takes the mode's documented default."""
    with (
        gr.Accordion("Edit options (FlowEdit names; 0 or empty = default)", open=False, visible=False,
                     elem_id="edit-options") as accordion,
        gr.Row(),
    ):  # fmt: skip
        n_max = _number("n_max", "edit-n-max", 0, "edited steps (0: 66 % / all)")
        n_min = _number("n_min", "edit-n-min", 0, "plain final steps (edit)")
        n_avg = _number("n_avg", "edit-n-avg", 1, "noise draws / step (edit)")
        source = _guidance("source guidance", "edit-source-guidance", "edit 3.5, invert 1")
        target = _guidance("target guidance", "edit-target-guidance", "edit 13.5, invert 1")
    return EditOptionsArea(accordion, n_max, n_min, n_avg, source, target)


def _map_image(label: str, elem_id: str) -> gr.Image:
    return gr.Image(label=label, type="filepath", interactive=False, height=RESULT_HEIGHT - 15, elem_id=elem_id,
                    buttons=["download", "fullscreen"], scale=2, min_width=160)  # fmt: skip


def build_change_tab() -> ChangeTab:
    # the sentence beside the two maps, so the tab fits the 1366 x 768 page like the others
    with gr.Tab("Change", id="tab-change"):
        with gr.Row(equal_height=True):
            samples = gr.Slider(
                APP_MIN_SAMPLES, APP_MAX_SAMPLES, value=APP_DEFAULT_SAMPLES, step=1, label="Samples (seeds)",
                elem_id="samples", scale=3,
            )  # fmt: skip
            button = gr.Button("Show change", variant="primary", elem_id="change-button", scale=1, min_width=110)
            json_file = gr.File(label="Change JSON", elem_id="change-json", elem_classes=["export-file"], scale=2,
                                min_width=200, height=80)  # fmt: skip
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=240):
                sentence = gr.Markdown(
                    "Runs Generate for several seeds, today and under the scenario: the change that holds across "
                    "seeds is signal, the rest is the luck of one seed.",
                    elem_id="change-sentence", max_height=RESULT_HEIGHT,
                )  # fmt: skip
            change = _map_image("Mean change, scenario − today · AI-generated", "change-image")
            spread = _map_image("Spread across seeds", "spread-image")
        results = gr.State(None)
    return ChangeTab(samples, button, sentence, change, spread, json_file, results)
