"""Models tab: the same place and month from every generator this server has (SD3, DiffusionSat,
GeoSynth, ...), next to the real image, with metrics, what each ignores, and the missing ones."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr


@dataclass
class ModelsArea:
    run: gr.Button
    cancel: gr.Button
    sheet: gr.Image
    metrics: gr.Markdown
    missing: gr.Markdown
    file: gr.File


def build_models_area() -> ModelsArea:
    with gr.Tab("Models", id="tab-models"):
        with gr.Row():
            gr.Markdown(
                "Same place, month, climate and scenario, one seed, every model with weights here · AI-generated",
                elem_id="models-intro",
            )
            run = gr.Button("Compare models", variant="primary", elem_id="compare-models", scale=0, size="sm")
            cancel = gr.Button("Cancel", variant="stop", elem_id="models-cancel", scale=0, size="sm")
        sheet = gr.Image(
            label="Models side by side · AI-generated", type="filepath", height=230, elem_id="models-sheet",
            interactive=False, buttons=["download", "fullscreen"],
        )  # fmt: skip
        with gr.Row(equal_height=False):
            metrics = gr.Markdown(elem_id="models-metrics")
            file = gr.File(label="Sheet (PNG)", elem_id="models-file", height=70, scale=0, min_width=180)
        missing = gr.Markdown(elem_id="models-missing")
    return ModelsArea(run, cancel, sheet, metrics, missing, file)


def wire_models(handlers, map_area, observed, observed_tab, generate, settings, models: ModelsArea) -> None:
    """The Models tab's events: one generation-queue slot (it loads several models in turn)."""
    from app.handlers.models import MODELS_FIELDS
    from app.layout.wiring import GENERATION_QUEUE

    widgets = {
        "lat": map_area.lat, "lon": map_area.lon, "month": observed.month, "land_cover": observed.land_cover,
        "cloud_pct": observed_tab.cloud_pct, "temp_c": observed_tab.temp_c, "precip_mm_day": observed_tab.precip,
        "solar_mj_m2_day": observed_tab.solar, "temp_delta_c": generate.temp_delta,
        "precip_pct": generate.precip_pct, "seed": settings.seed,
    }  # fmt: skip
    models.run.click(
        handlers.models_endpoint,
        [widgets[name] for name in MODELS_FIELDS],
        [models.sheet, models.metrics, models.missing, models.file],
        api_name="compare_models",
        show_progress_on=[models.sheet],
        concurrency_limit=1,
        concurrency_id=GENERATION_QUEUE,
    )
    models.cancel.click(handlers.cancel, None, generate.status, api_visibility="private", concurrency_limit=None)
