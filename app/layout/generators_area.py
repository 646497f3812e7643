"""Generators tab (issue 22): pick one generator (AeroGen, COP-GEN, ZoomLDM, ...) for the picked place, with what
it ignores and its licence, AeroGen's box layout as a small form (the CLI's `--layout-json`), and COP-GEN's NDVI
(drawn from noise, or redrawn from a real scene's bands for the picked month: "this place, other season")."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.layout.results_area import RESULT_HEIGHT


@dataclass(frozen=True)
class GeneratorsTab:
    generator_id: gr.Dropdown
    generator_button: gr.Button
    generator_note: gr.Markdown
    box_layout: gr.Accordion
    box_class: gr.Dropdown
    box_corners: gr.Textbox
    add_box_button: gr.Button
    clear_boxes_button: gr.Button
    layout_json: gr.Textbox
    source_month: gr.Textbox
    source_strength: gr.Slider
    generators_catalog: gr.Markdown
    generator_image: gr.Image
    generator_ndvi: gr.Image
    generator_files: gr.File
    generator_status: gr.Markdown  # a refused run or box says why here (`show_refusals`); no space while empty


def _box_form(classes: tuple[str, ...]) -> tuple:
    """A DIOR-R class and the box as fractions of the image (0..1, y down), added to the layout JSON."""
    with gr.Row(equal_height=True):
        box_class = gr.Dropdown(list(classes), value=classes[0], label="Class (DIOR-R)", elem_id="box-class",
                                min_width=120, scale=2)  # fmt: skip
        corners = gr.Textbox("0.3, 0.3, 0.6, 0.6", label="x min, y min, x max, y max (0..1, y down)",
                             elem_id="box-corners", min_width=150, scale=3)  # fmt: skip
    with gr.Row():
        add = gr.Button("Add box", size="sm", elem_id="add-box")
        clear = gr.Button("Clear boxes", size="sm", elem_id="clear-boxes")
    layout = gr.Textbox("", label="Layout JSON (python -m core generate --layout-json FILE reads the same)", lines=2,
                        max_lines=3, elem_id="layout-json")  # fmt: skip
    return box_class, corners, add, clear, layout


def _season_source() -> tuple[gr.Textbox, gr.Slider]:
    """COP-GEN img2img: the month of the real scene to redraw for the picked month, and how much to redraw."""
    with gr.Accordion("Real scene, other season (COP-GEN img2img)", open=False, elem_id="season-source"), gr.Row():
        month = gr.Textbox("", label="Real scene of (YYYY-MM, up to the picked month; blank: from noise)",
                           elem_id="source-month", min_width=150)  # fmt: skip
        strength = gr.Slider(0.0, 1.0, value=0.6, step=0.05, label="Strength (0 keeps the scene)",
                             elem_id="source-strength", min_width=150)  # fmt: skip
    return month, strength


def _result_image(label: str, elem_id: str, kind: str) -> gr.Image:
    return gr.Image(label=label, type=kind, interactive=False, height=RESULT_HEIGHT, elem_id=elem_id, scale=2,
                    min_width=160, buttons=["download", "fullscreen"])  # fmt: skip


def build_generators_tab(
    choices: list[str], classes: tuple[str, ...], catalog: str, note_text: str = ""
) -> GeneratorsTab:
    # Sections open when they matter (the box form for AeroGen): closed, the tab fits the 1366 x 768 page.
    with gr.Tab("Generators", id="tab-generators"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Row(equal_height=True):
                    generator_id = gr.Dropdown(choices, value=choices[0] if choices else None, label="Generator",
                                               elem_id="generator-id", scale=2, min_width=150)  # fmt: skip
                    button = gr.Button("Generate with it", variant="primary", elem_id="generator-button", scale=1,
                                       min_width=100)  # fmt: skip
                status = gr.Markdown("", elem_id="generator-status", elem_classes=["refusal-line"])
                note = gr.Markdown(note_text, elem_id="generator-note", max_height=100)  # 5 lines of 13 px
                with gr.Accordion("Box layout (AeroGen)", open=False, elem_id="box-layout") as box_layout:
                    box_class, corners, add, clear, layout = _box_form(classes)
                source_month, source_strength = _season_source()
                with gr.Accordion("Files (PNG, GeoTIFF bands, NDVI, recipe)", open=False,
                                  elem_id="generator-files-box"):  # fmt: skip
                    files = gr.File(label="Files", file_count="multiple", elem_id="generator-files",
                                    elem_classes=["export-file"])  # fmt: skip
            image = _result_image("AI-generated", "generator-image", "numpy")
            ndvi = _result_image("NDVI · AI-generated", "generator-ndvi", "filepath")
        with gr.Accordion("Every generator: what it ignores, licence", open=False, elem_id="catalog"):
            catalog_md = gr.Markdown(catalog, elem_id="generators-catalog", max_height=240)
    return GeneratorsTab(
        generator_id=generator_id, generator_button=button, generator_note=note, box_layout=box_layout,
        box_class=box_class, box_corners=corners, add_box_button=add, clear_boxes_button=clear,
        layout_json=layout, source_month=source_month, source_strength=source_strength, generators_catalog=catalog_md,
        generator_image=image, generator_ndvi=ndvi,
        generator_files=files, generator_status=status,
    )  # fmt: skip
