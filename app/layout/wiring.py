"""Connect the components to the handlers, by name. Only wiring: the work is in `app.handlers`.

Generation events share one queue slot (one model, one GPU) while point picks and observations run
beside them. Every event that changes the point or the month clears the results of the old one
first (quick, no queue), then observes the new one.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.forms import GenerateForm
from app.handlers import generate, observe, point, recipes, runs, scenario, series
from app.handlers.generate import GenerateShown
from app.handlers.models import MODELS_FIELDS, ModelsShown
from app.handlers.observe import ObserveShown
from app.handlers.point import ClearedResults, PointShown
from app.handlers.projection import ProjectionShown
from app.handlers.registry import Handlers
from app.layout.components import Components
from app.layout.events import named_event, output_names

GENERATION_QUEUE = "generation"
OBSERVE_CONCURRENCY = 4
# Quick events of the page itself: not in the API, no queue slot, no spinner.
QUIET = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": None}
OBSERVE_INPUTS = ("lat", "lon", "month")
POINT_OUTPUTS = output_names(PointShown)


def wire_page(c: Components, h: Handlers) -> None:
    """Every event of the page, area by area."""
    wire_point_and_month(c, h)
    wire_scenario(c, h)
    wire_generate(c, h)
    wire_series(c, h)
    wire_runs(c, h)
    wire_projection(c, h)
    wire_models(c, h)


# ---- events several areas start -----------------------------------------------------------------


def _pointing(c: Components) -> dict[str, Any]:
    return {"api_visibility": "private", "concurrency_limit": None, "show_progress_on": [c["place_line"]]}


def _point_typed(c: Components, h: Handlers) -> dict[str, Any]:
    return {**named_event(c, h.point.point_typed, ("lat", "lon"), PointShown), **_pointing(c)}


def _observing(c: Components) -> dict[str, Any]:
    return {"concurrency_limit": OBSERVE_CONCURRENCY, "concurrency_id": "observe",
            "show_progress_on": [c["observed_line"]]}  # fmt: skip


def _map_after_observe(c: Components) -> dict[str, Any]:
    return {**named_event(c, observe.map_for_observation, ["observation"], ["map_html"]), **QUIET}


def _scenario_line(c: Components) -> dict[str, Any]:
    inputs = ("temp_delta_c", "precip_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day")
    return {**named_event(c, scenario.scenario_line, inputs, ["scenario_line"]), **QUIET}


def _control_preview(c: Components, h: Handlers) -> dict[str, Any]:
    inputs = ("lat", "lon", "month", "mode", "control_months_before")
    return {
        **named_event(c, h.observe.control_preview, inputs, ["control_months_before", "control_image"]),
        "api_visibility": "private",
        "concurrency_limit": OBSERVE_CONCURRENCY,
        "concurrency_id": "observe",
        "show_progress": "minimal",
    }


def _generating(c: Components, h: Handlers) -> dict[str, Any]:
    return {
        **named_event(c, h.generate.generate, GenerateForm.FIELDS, GenerateShown),
        "show_progress_on": [c["scenario_image"], c["status"]],
        "concurrency_limit": 1,
        "concurrency_id": GENERATION_QUEUE,
    }


def _map_after_generate(c: Components) -> dict[str, Any]:
    return {**named_event(c, generate.map_for_results, ["results"], ["map_html"]), **QUIET}


# ---- the areas ----------------------------------------------------------------------------------


def wire_point_and_month(c: Components, h: Handlers) -> None:
    """A click, typed point, place search or new month: clear the old results, observe, redraw."""
    pointing = _pointing(c)

    def observe_after(event) -> None:
        cleared = event.success(**named_event(c, point.clear_results, ("lat", "lon"), ClearedResults), **QUIET)
        observed = cleared.then(
            **named_event(c, h.observe.observe_if_picked, OBSERVE_INPUTS, ObserveShown),
            api_visibility="private", **_observing(c),
        )  # fmt: skip
        observed.then(**_map_after_observe(c))
        observed.then(**_scenario_line(c))
        observed.then(**_control_preview(c, h))

    # The public endpoint keeps the plain name "observe".
    observe_click = c["observe_button"].click(
        **named_event(c, h.observe.observe, OBSERVE_INPUTS, ObserveShown), api_name="observe", **_observing(c)
    )
    observe_click.then(**_map_after_observe(c))
    observe_click.then(**_scenario_line(c))
    observe_after(c["map_html"].map_click(**named_event(c, h.point.map_clicked, (), PointShown), **pointing))
    observe_after(gr.on([c["go_button"].click, c["lat"].submit, c["lon"].submit], **_point_typed(c, h)))
    observe_after(
        gr.on(
            [c["search_button"].click, c["place_query"].submit],
            **named_event(c, h.point.search_place, ["place_query"], ("place_results", *POINT_OUTPUTS)),
            **pointing,
        )
    )
    observe_after(
        c["place_results"].input(**named_event(c, h.point.place_picked, ["place_results"], PointShown), **pointing)
    )
    # A new month re-observes (its image, climate and land cover), when a point is picked.
    observe_after(
        gr.on(
            [c["month"].submit, c["month"].blur],
            **named_event(c, point.month_changed, ("lat", "lon", "month", "observation")),
            **QUIET,
        )
    )


def wire_scenario(c: Components, h: Handlers) -> None:
    """Presets and sliders keep each other and the scenario line in step; ControlNet shows its image."""
    c["preset"].input(**named_event(c, scenario.preset_chosen, ["preset"], ("temp_delta_c", "precip_pct")), **QUIET)
    gr.on(
        [c["temp_delta_c"].change, c["precip_pct"].change, c["temp_c"].input, c["precip_mm_day"].input,
         c["solar_mj_m2_day"].input],
        **_scenario_line(c),
    )  # fmt: skip
    for name in ("temp_delta_c", "precip_pct"):
        c[name].input(**named_event(c, scenario.preset_for_numbers, ("temp_delta_c", "precip_pct"), ["preset"]),
                      **QUIET)  # fmt: skip
    gr.on([c["mode"].input, c["control_months_before"].input], **_control_preview(c, h))


def wire_generate(c: Components, h: Handlers) -> None:
    """Generate, and a loaded recipe: its point shown on the map, its climate kept (not re-observed), then
    the same Generate."""
    c["generate_button"].click(api_name="generate", **_generating(c, h)).success(**_map_after_generate(c))
    recipe_loaded = c["load_recipe_button"].click(
        **named_event(c, recipes.load_recipe, {"path": "recipe_upload"}, recipes.RECIPE_OUTPUTS),
        api_name="load_recipe",
        show_progress_on=[c["status"]],
    )
    shown_on_map = recipe_loaded.success(**_point_typed(c, h))
    regenerated = shown_on_map.success(api_visibility="private", **_generating(c, h))
    regenerated.success(**_map_after_generate(c))


def wire_series(c: Components, h: Handlers) -> None:
    """The time-lapse and the scenario grid (each a run of generations in the generation slot)."""
    c["timelapse_button"].click(
        **named_event(c, h.series.timelapse, series.TIMELAPSE_FIELDS, series.TimelapseShown),
        api_name="timelapse",
        show_progress_on=[c["timelapse_summary"], c["timelapse_gif"]],
        concurrency_limit=1,
        concurrency_id=GENERATION_QUEUE,
    )
    c["video_format"].change(
        **named_event(c, series.preview_for_format, ["video_format"], ("timelapse_gif", "timelapse_mp4")),
        api_visibility="private",
    )
    c["grid_button"].click(
        **named_event(c, h.series.grid, series.GRID_FIELDS, series.GridShown),
        api_name="scenario_grid",
        show_progress_on=[c["grid_image"]],
        concurrency_limit=1,
        concurrency_id=GENERATION_QUEUE,
    )


def wire_runs(c: Components, h: Handlers) -> None:
    """Cancel, and a clean status line when a run starts."""
    # Cancelling is cooperative (core checks a threading.Event between steps) rather than
    # `cancels=`: killing the task would leave the worker thread running outside the queue slot.
    for button in ("generate_cancel", "timelapse_cancel", "grid_cancel"):
        c[button].click(**named_event(c, h.runs.cancel, (), ["status"]), api_visibility="private",
                        concurrency_limit=None)  # fmt: skip
    # A new run starts with an empty status line (no "Cancel requested" left from the last one).
    for button in ("generate_button", "timelapse_button", "grid_button"):
        c[button].click(**named_event(c, runs.clear_status, (), ["status"]), **QUIET)


def wire_projection(c: Components, h: Handlers) -> None:
    """Show draws the picked SSP x horizon's chart (the projection is then cached for Generate)."""
    gr.on(
        [c["projection_button"].click, c["ssp"].input, c["horizon"].input],
        **named_event(
            c, h.projection.show_projection, ("lat", "lon", "ssp", "horizon", "normals_years", "month"),
            ProjectionShown,
        ),
        api_name="projection",
        show_progress_on=[c["projection_summary"]],
        concurrency_limit=OBSERVE_CONCURRENCY,
        concurrency_id="observe",
    )  # fmt: skip


def wire_models(c: Components, h: Handlers) -> None:
    """The Models tab's events: one generation-queue slot (it loads several models in turn)."""
    c["models_button"].click(
        **named_event(c, h.models.compare_models, MODELS_FIELDS, ModelsShown),
        api_name="compare_models",
        show_progress_on=[c["models_sheet"]],
        concurrency_limit=1,
        concurrency_id=GENERATION_QUEUE,
    )
    c["models_cancel"].click(**named_event(c, h.runs.cancel, (), ["status"]), api_visibility="private",
                             concurrency_limit=None)  # fmt: skip
