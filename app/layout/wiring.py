"""Connect the components to the handlers, by name. Only wiring: the work is in `app.handlers`.

Generation events share one queue slot (one model, one GPU) while point picks and observations run
beside them. Every event that changes the point or the month clears the results of the old one
first (quick, no queue), then observes the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from app.forms import GenerateForm
from app.handlers.change import CHANGE_FIELDS, ChangeShown, edit_options_for
from app.handlers.generate import GenerateShown, map_for_results
from app.handlers.generators import BOX_FIELDS, GENERATOR_FIELDS, GeneratorShown, add_box
from app.handlers.models import MODELS_FIELDS, ModelsShown
from app.handlers.observe import ObserveShown, map_for_observation
from app.handlers.point import ClearedResults, PointShown, clear_results, month_changed
from app.handlers.projection import ProjectionShown
from app.handlers.recipes import RECIPE_OUTPUTS, load_recipe
from app.handlers.registry import Handlers
from app.handlers.scenario import preset_chosen, preset_for_numbers, preset_script, scenario_line
from app.handlers.series import (
    GRID_FIELDS,
    TIMELAPSE_FIELDS,
    GridShown,
    TimelapseShown,
    preview_for_format,
    timelapse_range_for,
)
from app.layout.components import Components
from app.layout.events import clear_when_started, named_event, output_names, show_refusals

GENERATION_QUEUE = "generation"
OBSERVE_CONCURRENCY = 4
# Quick events of the page itself: not in the API, no queue slot, no spinner.
QUIET = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": None}
OBSERVE_INPUTS = ("lat", "lon", "month")
# A run that loads the model and denoises: the one generation slot, clicks queued behind it.
IN_GENERATION_SLOT = {"concurrency_limit": 1, "concurrency_id": GENERATION_QUEUE, "trigger_mode": "multiple"}
POINT_OUTPUTS = output_names(PointShown)


def wire_page(page: Components, handlers: Handlers) -> None:
    """Every event of the page, area by area."""
    wire_refusal_lines(page)  # first: see `clear_when_started`
    wire_point_and_month(page, handlers)
    wire_scenario(page, handlers)
    wire_generate(page, handlers)
    wire_series(page, handlers)
    wire_runs(page, handlers)
    wire_projection(page, handlers)
    wire_models(page, handlers)
    wire_change(page, handlers)
    wire_generators(page, handlers)


# Buttons that start a run in the generation slot: the status line under Generate is theirs.
RUN_BUTTONS = ("generate_button", "timelapse_button", "grid_button", "models_button", "change_button",
               "generator_button", "region_button", "load_recipe_button")  # fmt: skip


def wire_refusal_lines(page: Components) -> None:
    """Each area's line that shows a refused action (`show_refusals`), cleared when the area's next action
    starts; a new run empties the status line under Generate (no "Cancel requested" or refusal left)."""
    starts = {
        "place_line": [page["map_html"].map_click, page["go_button"].click, page["lat"].submit, page["lon"].submit,
                       page["search_button"].click, page["place_query"].submit, page["place_results"].input],
        "observed_line": [page["observe_button"].click, page["month"].submit, page["month"].blur],
        "recipe_status": [page["load_recipe_button"].click],
        "timelapse_summary": [page["timelapse_button"].click],
        "grid_status": [page["grid_button"].click],
        "projection_summary": [page["projection_button"].click, page["ssp"].input, page["horizon"].input],
        "models_missing": [page["models_button"].click],
        "change_sentence": [page["change_button"].click],
        "generator_status": [page["add_box_button"].click, page["generator_button"].click],
        "region_summary": [page["region_button"].click],
    }  # fmt: skip
    for line, triggers in starts.items():
        clear_when_started(page, line, triggers)
    clear_when_started(page, "status", [page[button].click for button in RUN_BUTTONS], whole_line=True)


# ---- events several areas start -----------------------------------------------------------------


def _pointing(page: Components) -> dict[str, Any]:
    return {"api_visibility": "private", "concurrency_limit": None, "show_progress_on": [page["place_line"]]}


def _point_typed(page: Components, handlers: Handlers) -> dict[str, Any]:
    return {**named_event(page, handlers.point.point_typed, ("lat", "lon"), PointShown), **_pointing(page)}


def _observing(page: Components) -> dict[str, Any]:
    return {"concurrency_limit": OBSERVE_CONCURRENCY, "concurrency_id": "observe",
            "show_progress_on": [page["observed_line"]]}  # fmt: skip


def _map_after_observe(page: Components) -> dict[str, Any]:
    return {**named_event(page, map_for_observation, ["observation"], ["map_html"]), **QUIET}


def _timelapse_range(page: Components) -> dict[str, Any]:
    return {**named_event(page, timelapse_range_for, ["month"], ("start", "end")), **QUIET}


def _scenario_line(page: Components) -> dict[str, Any]:
    inputs = ("temp_delta_c", "precip_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day", "ssp", "results")
    return {**named_event(page, scenario_line, inputs, ["scenario_line"]), **QUIET}


def _climate_chart(page: Components, handlers: Handlers) -> dict[str, Any]:
    inputs = ("lat", "lon", "month", "temp_c", "precip_mm_day", "solar_mj_m2_day", "temp_delta_c", "precip_pct", "ssp")
    return {**named_event(page, handlers.observe.climate_chart, inputs, ["climate_plot"]), **QUIET}


def _control_preview(page: Components, handlers: Handlers) -> dict[str, Any]:
    inputs = ("lat", "lon", "month", "mode", "control_months_before")
    return {
        **named_event(page, handlers.observe.control_preview, inputs, ["control_months_before", "control_image"]),
        "api_visibility": "private",
        "concurrency_limit": OBSERVE_CONCURRENCY,
        "concurrency_id": "observe",
        "show_progress": "minimal",
    }


def _generating(page: Components, handlers: Handlers) -> dict[str, Any]:
    return {
        **named_event(page, handlers.generate.generate, GenerateForm.FIELDS, GenerateShown),
        "show_progress_on": [page["scenario_image"], page["status"]],
        **IN_GENERATION_SLOT,
    }


def _map_after_generate(page: Components) -> dict[str, Any]:
    return {**named_event(page, map_for_results, ["results"], ["map_html"]), **QUIET}


# ---- the areas ----------------------------------------------------------------------------------


def wire_point_and_month(page: Components, handlers: Handlers) -> None:
    """A click, typed point, place search or new month: clear the old results, observe, redraw.

    A refused point says why in the place line, a refused month or observation in the observed line."""
    pointing = _pointing(page)

    def observe_after(event) -> Any:
        cleared = event.success(**named_event(page, clear_results, ("lat", "lon"), ClearedResults), **QUIET)
        observed = cleared.then(
            **named_event(page, handlers.observe.observe_if_picked, OBSERVE_INPUTS, ObserveShown),
            api_visibility="private", **_observing(page),
        )  # fmt: skip
        observed.then(**_map_after_observe(page))
        observed.then(**_scenario_line(page))
        observed.then(**_timelapse_range(page))
        observed.then(**_control_preview(page, handlers))
        return event

    # The public endpoint keeps the plain name "observe".
    observe_click = page["observe_button"].click(
        **named_event(page, handlers.observe.observe, OBSERVE_INPUTS, ObserveShown),
        api_name="observe",
        **_observing(page),
    )
    observe_click.then(**_map_after_observe(page))
    observe_click.then(**_scenario_line(page))
    observe_click.then(**_timelapse_range(page))
    pointed = [
        observe_after(
            page["map_html"].map_click(**named_event(page, handlers.point.map_clicked, (), PointShown), **pointing)
        ),
        observe_after(
            gr.on([page["go_button"].click, page["lat"].submit, page["lon"].submit], **_point_typed(page, handlers))
        ),
        observe_after(
            gr.on(
                [page["search_button"].click, page["place_query"].submit],
                **named_event(page, handlers.point.search_place, ["place_query"], ("place_results", *POINT_OUTPUTS)),
                **pointing,
            )
        ),
        observe_after(
            page["place_results"].input(
                **named_event(page, handlers.point.place_picked, ["place_results"], PointShown), **pointing
            )
        ),
    ]
    show_refusals(page, "place_line", pointed)
    # A new month re-observes (its image, climate and land cover), when a point is picked.
    new_month = observe_after(
        gr.on(
            [page["month"].submit, page["month"].blur],
            **named_event(page, month_changed, ("lat", "lon", "month", "observation")),
            **QUIET,
        )
    )
    # (a picked point's failed observation says so in the observed line itself: `observe_if_picked`)
    show_refusals(page, "observed_line", [observe_click, new_month])


def wire_scenario(page: Components, handlers: Handlers) -> None:
    """Presets and sliders keep each other and the scenario line in step; ControlNet shows its image."""
    # A preset or a moved slider replaces a picked projection: these also clear the Future picker.
    replacing = ("ssp", "preset", "temp_delta_c", "precip_pct", "projection_summary", "projection_chart")
    page["preset"].input(
        None, [page["preset"], page["temp_delta_c"], page["precip_pct"]], [page["temp_delta_c"], page["precip_pct"]],
        js=preset_script(), **QUIET,
    )  # fmt: skip
    page["preset"].input(**named_event(page, preset_chosen, ["preset", "ssp"], replacing), **QUIET)
    # the line reads the picker too: a preset that clears a projection must redraw it once the picker is reset
    # (the sliders may already hold the preset's values, so their change events alone can come too early)
    gr.on(
        [page["temp_delta_c"].change, page["precip_pct"].change, page["temp_c"].input, page["precip_mm_day"].input,
         page["solar_mj_m2_day"].input, page["ssp"].change],
        **_scenario_line(page),
    )  # fmt: skip
    for name in ("temp_delta_c", "precip_pct"):
        page[name].input(**named_event(page, preset_for_numbers, ("temp_delta_c", "precip_pct", "ssp"), replacing),
                      **QUIET)  # fmt: skip
    gr.on([page["mode"].input, page["control_months_before"].input], **_control_preview(page, handlers))
    # the Climate tab's chart marks the scenario: redrawn whenever the scenario line is (observation, preset, slider)
    page["scenario_line"].change(**_climate_chart(page, handlers))


def wire_generate(page: Components, handlers: Handlers) -> None:
    """Generate, and a loaded recipe: its point shown on the map, its climate kept (not re-observed), then
    the same Generate."""
    notes = named_event(page, lambda model_id: {"model_notes": handlers.context.model_notes(model_id)},
                        ["model_id"], ["model_notes"])  # fmt: skip
    page["model_id"].change(**QUIET, **notes)  # the preview / GPU line follows the model picked
    generated = page["generate_button"].click(api_name="generate", **_generating(page, handlers))
    generated.success(**_map_after_generate(page))
    generated.success(**_scenario_line(page))  # the line now captions the new images
    recipe_loaded = page["load_recipe_button"].click(
        **named_event(page, load_recipe, {"path": "recipe_upload"}, RECIPE_OUTPUTS),
        api_name="load_recipe",
        show_progress_on=[page["status"]],
    )
    shown_on_map = recipe_loaded.success(**_point_typed(page, handlers))
    regenerated = shown_on_map.success(api_visibility="private", **_generating(page, handlers))
    regenerated.success(**_map_after_generate(page))
    regenerated.success(**_scenario_line(page))
    show_refusals(page, "recipe_status", [recipe_loaded])
    show_refusals(page, "place_line", [shown_on_map])
    show_refusals(page, "status", [generated, regenerated])


def wire_series(page: Components, handlers: Handlers) -> None:
    """The time-lapse and the scenario grid (each a run of generations in the generation slot)."""
    wire_run(
        page, handlers, "timelapse_button",
        named_event(page, handlers.series.timelapse, TIMELAPSE_FIELDS, TimelapseShown), api_name="timelapse",
        progress_on=("timelapse_summary", "timelapse_gif"), refusals_in="timelapse_summary", cancel="timelapse_cancel",
    )  # fmt: skip
    page["video_format"].change(
        **named_event(page, preview_for_format, ["video_format"], ("timelapse_gif", "timelapse_mp4")),
        api_visibility="private",
    )
    wire_run(
        page, handlers, "grid_button", named_event(page, handlers.series.grid, GRID_FIELDS, GridShown),
        api_name="scenario_grid", progress_on=("grid_image",), refusals_in="grid_status", cancel="grid_cancel",
    )  # fmt: skip


def wire_runs(page: Components, handlers: Handlers) -> None:
    """Generate's Cancel and "busy" line (the other runs have theirs from `wire_run`)."""
    wire_cancel(page, handlers, "generate_cancel")
    run_started(page, handlers, "generate_button")


def wire_run(
    page: Components,
    handlers: Handlers,
    button: str,
    event: dict[str, Any],
    *,
    api_name: str,
    progress_on: Sequence[str],
    refusals_in: str,
    cancel: str | None = None,
) -> Any:
    """A run that `button` starts in the one generation slot: its progress on `progress_on`, its refusals in the
    line `refusals_in`, "busy" while an earlier run of the session goes on, and its Cancel button.

    Args:
        event: the run's `named_event(...)`.

    Returns:
        The run's event (for what follows its success).
    """
    run = page[button].click(
        **event, api_name=api_name, show_progress_on=[page[name] for name in progress_on], **IN_GENERATION_SLOT
    )
    show_refusals(page, refusals_in, [run])
    run_started(page, handlers, button)
    if cancel is not None:
        wire_cancel(page, handlers, cancel)
    return run


def wire_cancel(page: Components, handlers: Handlers, button: str) -> None:
    """A Cancel button: asks the session's running job to stop; it says so in the status line."""
    # Cancelling is cooperative (core checks a threading.Event between steps) rather than
    # `cancels=`: killing the task would leave the worker thread running outside the queue slot.
    page[button].click(**named_event(page, handlers.runs.cancel, (), ["status"]), api_visibility="private",
                       concurrency_limit=None)  # fmt: skip


def run_started(page: Components, handlers: Handlers, button: str) -> None:
    """The status line says "busy" when the session's last run is still going (the click waits:
    trigger_mode="multiple"); the page has emptied the line at the click (`wire_refusal_lines`)."""
    page[button].click(**named_event(page, handlers.runs.run_clicked, (), ["status"]), **QUIET)


def wire_projection(page: Components, handlers: Handlers) -> None:
    """Show draws the picked SSP x horizon's chart (the projection is then cached for Generate), then the
    scenario controls show that the projection is in use."""
    shown = gr.on(
        [page["projection_button"].click, page["ssp"].input, page["horizon"].input],
        **named_event(
            page, handlers.projection.show_projection, ("lat", "lon", "ssp", "horizon", "normals_years", "month"),
            ProjectionShown,
        ),
        api_name="projection",
        show_progress_on=[page["projection_summary"]],
        concurrency_limit=OBSERVE_CONCURRENCY,
        concurrency_id="observe",
    )  # fmt: skip
    inputs = ("lat", "lon", "ssp", "horizon", "normals_years", "month", "temp_delta_c", "precip_pct")
    in_controls = shown.success(
        **named_event(page, handlers.projection.controls_for_projection, inputs,
                      ("preset", "temp_delta_c", "precip_pct")),
        **QUIET,
    )  # fmt: skip
    show_refusals(page, "projection_summary", [shown, in_controls])


def wire_models(page: Components, handlers: Handlers) -> None:
    """The Models tab's events: one generation-queue slot (it loads several models in turn)."""
    wire_run(
        page, handlers, "models_button",
        named_event(page, handlers.models.compare_models, MODELS_FIELDS, ModelsShown), api_name="compare_models",
        progress_on=("models_sheet",), refusals_in="models_missing", cancel="models_cancel",
    )  # fmt: skip


def wire_change(page: Components, handlers: Handlers) -> None:
    """Issue 20: Edit / Invert show their options; "Show change" runs N seeds in the generation slot, then
    draws the mean change on the map."""
    page["mode"].input(**named_event(page, edit_options_for, ["mode"], ["edit_options"]), **QUIET)
    shown = wire_run(
        page, handlers, "change_button",
        named_event(page, handlers.change.show_change, CHANGE_FIELDS, ChangeShown), api_name="change",
        progress_on=("change_sentence", "change_image"), refusals_in="change_sentence",
    )  # fmt: skip
    shown.success(**named_event(page, map_for_results, {"results": "change_results"}, ["map_html"]), **QUIET)


def wire_generators(page: Components, handlers: Handlers) -> None:
    """Issue 22: the picked generator's note, the box form, and one generator run in the generation slot."""
    page["generator_id"].change(
        **named_event(page, handlers.generators.note, ["generator_id"], ["generator_note", "box_layout"]), **QUIET
    )
    boxed = page["add_box_button"].click(**named_event(page, add_box, BOX_FIELDS, ["layout_json"]), **QUIET)
    page["clear_boxes_button"].click(lambda: "", None, page["layout_json"], **QUIET)
    show_refusals(page, "generator_status", [boxed])
    wire_run(
        page, handlers, "generator_button",
        named_event(page, handlers.generators.run_generator, GENERATOR_FIELDS, GeneratorShown), api_name="generator",
        progress_on=("generator_image",), refusals_in="generator_status",
    )  # fmt: skip
