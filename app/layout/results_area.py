"""Results: the real image beside today's and the scenario's generated image (same seed), the
slider between the two, the metrics with how to read them; and the Exports tab."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

RESULT_HEIGHT = 215


@dataclass(frozen=True)
class ResultsTabs:
    real_image: gr.Image
    today_image: gr.Image
    scenario_image: gr.Image
    metrics: gr.Markdown
    slider: gr.ImageSlider
    results: gr.State


@dataclass(frozen=True)
class ExportsTab:
    png: gr.File
    tif: gr.File
    recipe: gr.File
    html_map: gr.File
    prompts: gr.Markdown
    recipe_upload: gr.File
    load_recipe_button: gr.Button
    recipe_status: gr.Markdown  # a refused recipe says why here (`show_refusals`); no space while empty


def _image(label: str, elem_id: str) -> gr.Image:
    return gr.Image(
        label=label,
        type="numpy",
        format="png",
        interactive=False,
        height=RESULT_HEIGHT,
        elem_id=elem_id,
        elem_classes=["result-image"],
        buttons=["download", "fullscreen"],
    )


def build_results_tabs() -> ResultsTabs:
    with gr.Tab("Today vs scenario", id="tab-compare"):
        with gr.Row(equal_height=True):
            real_image = _image("Real (Sentinel-2)", "observed-image")
            today_image = _image("Today's climate · AI-generated", "today-image")
            scenario_image = _image("Scenario · AI-generated", "generated-image")
        metrics = gr.Markdown(elem_id="metrics")
    with gr.Tab("Slider", id="tab-slider"):
        slider = gr.ImageSlider(
            label="Today | scenario (same seed) · AI-generated",
            type="numpy",
            format="png",
            height=RESULT_HEIGHT + 40,
            elem_id="compare-slider",
        )
        # Kept in the Slider tab: a component directly under gr.Tabs (outside any Tab) shifts the tab buttons.
        results = gr.State(None)
    return ResultsTabs(
        real_image=real_image, today_image=today_image, scenario_image=scenario_image, metrics=metrics,
        slider=slider, results=results,
    )  # fmt: skip


def build_exports_tab() -> ExportsTab:
    # Two files a row, and names that wrap (style.py): four in a row cut them to ".p", ".ti" (issue 25).
    with gr.Tab("Exports", id="tab-exports", elem_id="exports-tab"):
        with gr.Row():
            png = gr.File(label="PNG (metadata)", elem_id="png-file", elem_classes=["export-file"])
            tif = gr.File(label="GeoTIFF", elem_id="tif-file", elem_classes=["export-file"])
        with gr.Row():
            recipe = gr.File(label="Recipe JSON", elem_id="recipe-file", elem_classes=["export-file"])
            html_map = gr.File(label="Map (HTML, layers)", elem_id="html-map-file", elem_classes=["export-file"])
        prompts = gr.Markdown(elem_id="prompts")
        with gr.Row():
            recipe_upload = gr.File(
                label="Load a recipe (regenerates the same image)", file_types=[".json"], height=70,
                elem_id="recipe-upload",
            )  # fmt: skip
            load_recipe_button = gr.Button("Load recipe and generate", elem_id="load-recipe", scale=0)
        recipe_status = gr.Markdown("", elem_id="recipe-status", elem_classes=["refusal-line"])
    return ExportsTab(
        png=png, tif=tif, recipe=recipe, html_map=html_map, prompts=prompts, recipe_upload=recipe_upload,
        load_recipe_button=load_recipe_button, recipe_status=recipe_status,
    )  # fmt: skip
