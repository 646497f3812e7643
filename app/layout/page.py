"""The page: one area per part of the loop, laid out to fit 1366 x 768 without scrolling, then wired.

Left: the map (the canvas) with the point boxes and the place search. Right: the month and what was
observed there, the scenario with its presets, Generate (with ControlNet beside it), and the results
in tabs (today vs scenario, the slider, climate, time-lapse, scenario grid, exports, settings).
Each area's module lays out its widgets and returns them; `wiring` connects them to the handlers.
"""

from __future__ import annotations

import gradio as gr

from app.handlers.projection import horizon_choices, ssp_choices
from app.handlers.registry import Handlers
from app.handlers.scenario import preset_labels
from app.handlers.series import default_timelapse_range
from app.layout.change_area import build_change_tab, build_edit_options
from app.layout.components import Components
from app.layout.generate_area import build_generate_area
from app.layout.generators_area import build_generators_tab
from app.layout.grid_area import build_grid_tab
from app.layout.map_area import build_map_area
from app.layout.models_area import build_models_tab
from app.layout.observed_area import build_climate_tab, build_observed_area
from app.layout.projection_area import build_projection_tab
from app.layout.region_area import build_region_tab
from app.layout.region_wiring import wire_region
from app.layout.results_area import build_exports_tab, build_results_tabs
from app.layout.settings_area import build_settings_tab
from app.layout.timelapse_area import build_timelapse_tab
from app.layout.wiring import wire_page
from core import services


def build_components(
    leaflet_url: str,
    model_id: str,
    model_choices: list[str],
    land_cover_classes: tuple[str, ...],
    generators: tuple[list[str], tuple[str, ...], str, str] = ([], ("airplane",), "", ""),
    model_notes: str = "",
) -> Components:
    """Lay out every area (inside an open `gr.Blocks`) and return them in one structure.

    `generators`: (choices, box classes, catalog table, first choice's line) of the Generators tab.
    """
    with gr.Row(equal_height=False, elem_id="loop"):
        with gr.Column(scale=5, min_width=480):
            map_area = build_map_area(leaflet_url)
        with gr.Column(scale=6, min_width=560):
            observed = build_observed_area(land_cover_classes)
            scenario = build_generate_area(preset_labels())
            edit = build_edit_options()
            # every tab in sight (the default "menu" hides the last ones behind "⋯" at 1366 px)
            with gr.Tabs(elem_id="result-tabs", overflow_behavior="wrap"):
                results = build_results_tabs()
                change = build_change_tab()
                climate = build_climate_tab()
                projection = build_projection_tab(ssp_choices(), horizon_choices())
                timelapse = build_timelapse_tab(default_timelapse_range())
                grid = build_grid_tab()
                region = build_region_tab(
                    [(services.REGION_METHOD_NAMES[m], m) for m in services.REGION_METHODS],
                    services.REGION_DEFAULT_METHOD,
                )
                models = build_models_tab()
                generators_tab = build_generators_tab(*generators)
                exports = build_exports_tab()
                settings = build_settings_tab(model_choices, model_id, model_notes)
    return Components(
        map=map_area, observed=observed, scenario=scenario, results=results, climate=climate,
        projection=projection, timelapse=timelapse, grid=grid, region=region, models=models, exports=exports,
        settings=settings, edit=edit, change=change, generators=generators_tab,
    )  # fmt: skip


def build_blocks(
    handlers: Handlers,
    notice: str,
    model_choices: list[str],
    land_cover_classes: tuple[str, ...],
    max_queue_size: int | None = None,
) -> gr.Blocks:
    """The whole app. `notice` is the short line about the model shown to users ('' for a ready model)."""
    config = handlers.config
    with gr.Blocks(title="EcoMapper Studio", fill_width=True) as demo:
        _limit_queue(demo, max_queue_size)
        with gr.Row(elem_id="top-bar"):
            gr.Markdown("**EcoMapper Studio** · click a place, pick a month and a scenario, Generate", elem_id="title")
            gr.Markdown(notice, elem_id="model-notice", visible=bool(notice))
        components = build_components(config.leaflet_url, config.model_id, model_choices, land_cover_classes,
                                      handlers.generators.tab_inputs(),
                                      handlers.context.model_notes(config.model_id))  # fmt: skip
        wire_page(components, handlers)
        wire_region(components, handlers)
    demo.ecomapper_components = components  # read by tests (components by name)
    return demo


def _limit_queue(demo: gr.Blocks, max_size: int | None) -> None:
    """Cap the queue that `gr.Blocks()` has already made. Calling `queue()` again would rebuild Gradio's
    whole server app (0.3-0.8 s here) for one number; launch() builds the served app anyway."""
    queue = getattr(demo, "_queue", None)
    if queue is not None and hasattr(queue, "max_size"):
        queue.max_size = max_size
    else:  # another Gradio: the public way
        demo.queue(max_size=max_size)
