"""Connect the areas to the handlers. Only wiring: the work is in `app.handlers`.

Generation events share one queue slot (one model, one GPU) while point picks and observations run
beside them. Every event that changes the point or the month clears the results of the old one
first (quick, no queue), then observes the new one.
"""

from __future__ import annotations

import gradio as gr

from app.handlers import Handlers
from app.handlers.generate import GENERATE_FIELDS
from app.handlers.series import GRID_FIELDS, TIMELAPSE_FIELDS

GENERATION_QUEUE = "generation"
OBSERVE_CONCURRENCY = 4


def wire(handlers: Handlers, map_area, observed, observed_tab, generate, results, timelapse, grid, exports, settings):
    """All events of the page (the arguments are the areas' widget groups)."""
    # ---- point and month -> clear old results, observe ------------------------------------------
    point_outputs = [map_area.lat, map_area.lon, map_area.map_html, map_area.place_line]
    stale_outputs = [
        results.real, results.today, results.scenario, results.slider, results.metrics, results.results,
        observed.observed_line, observed_tab.temp_c, observed_tab.precip, observed_tab.solar, observed.land_cover,
        exports.png, exports.tif, exports.recipe, exports.html_map, generate.control_image, map_area.map_html,
    ]  # fmt: skip
    observe_inputs = [map_area.lat, map_area.lon, observed.month]
    observe_outputs = [
        results.real, observed_tab.info, observed_tab.climate_plot, observed_tab.details, observed.land_cover,
        observed_tab.land_cover_note, observed_tab.cloud_pct, observed_tab.temp_c, observed_tab.precip,
        observed_tab.solar, observed.observed_line, observed.observation, observed.month,
    ]  # fmt: skip
    observing = dict(
        concurrency_limit=OBSERVE_CONCURRENCY, concurrency_id="observe", show_progress_on=[observed.observed_line]
    )
    pointing = dict(api_visibility="private", concurrency_limit=None, show_progress_on=[map_area.place_line])
    map_after_observe = dict(
        fn=handlers.map_for_observation,
        inputs=[observed.observation],
        outputs=[map_area.map_html],
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=None,
    )
    control_preview = dict(
        fn=handlers.control_preview,
        inputs=[map_area.lat, map_area.lon, observed.month, generate.mode, generate.control_before],
        outputs=[generate.control_before, generate.control_image],
        api_visibility="private",
        concurrency_limit=OBSERVE_CONCURRENCY,
        concurrency_id="observe",
        show_progress="minimal",
    )

    scenario_line_inputs = [generate.temp_delta, generate.precip_pct, observed_tab.temp_c, observed_tab.precip,
                            observed_tab.solar]  # fmt: skip
    scenario_line_event = dict(
        fn=handlers.scenario_line,
        inputs=scenario_line_inputs,
        outputs=[generate.scenario_line],
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=None,
    )

    def observe_after(event):
        """After a point or month is set: clear what belonged to the old one, observe, redraw the map."""
        cleared = event.success(
            handlers.clear_results,
            [map_area.lat, map_area.lon],
            stale_outputs,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
        observed_event = cleared.then(
            handlers.observe_if_picked, observe_inputs, observe_outputs, api_visibility="private", **observing
        )
        observed_event.then(**map_after_observe)
        observed_event.then(**scenario_line_event)
        observed_event.then(**control_preview)

    # The public endpoint keeps the plain name "observe".
    observe_click = observed.observe.click(
        handlers.observe, observe_inputs, observe_outputs, api_name="observe", **observing
    )
    observe_click.then(**map_after_observe)
    observe_click.then(**scenario_line_event)
    observe_after(map_area.map_html.map_click(handlers.map_clicked, None, point_outputs, **pointing))
    observe_after(
        gr.on(
            [map_area.go.click, map_area.lat.submit, map_area.lon.submit],
            handlers.point_typed,
            [map_area.lat, map_area.lon],
            point_outputs,
            **pointing,
        )
    )
    observe_after(
        gr.on(
            [map_area.search.click, map_area.place_query.submit],
            handlers.search_place,
            [map_area.place_query],
            [map_area.place_results, *point_outputs],
            **pointing,
        )
    )
    observe_after(
        map_area.place_results.input(handlers.place_picked, [map_area.place_results], point_outputs, **pointing)
    )
    # A new month re-observes (its image, climate and land cover), when a point is picked.
    observe_after(
        gr.on(
            [observed.month.submit, observed.month.blur],
            handlers.month_changed,
            [map_area.lat, map_area.lon, observed.month, observed.observation],
            None,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
    )

    # ---- scenario and ControlNet --------------------------------------------------------------------
    generate.preset.input(
        handlers.preset_chosen,
        [generate.preset],
        [generate.temp_delta, generate.precip_pct],
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=None,
    )
    gr.on(
        [generate.temp_delta.change, generate.precip_pct.change, observed_tab.temp_c.input,
         observed_tab.precip.input, observed_tab.solar.input],
        **scenario_line_event,
    )  # fmt: skip
    for widget in (generate.temp_delta, generate.precip_pct):
        widget.input(
            handlers.preset_for_numbers,
            [generate.temp_delta, generate.precip_pct],
            [generate.preset],
            api_visibility="private",
            show_progress="hidden",
            concurrency_limit=None,
        )
    gr.on([generate.mode.input, generate.control_before.input], **control_preview)

    # ---- generate -----------------------------------------------------------------------------------
    generation = dict(concurrency_limit=1, concurrency_id=GENERATION_QUEUE)
    widgets = {
        "lat": map_area.lat, "lon": map_area.lon, "month": observed.month, "land_cover": observed.land_cover,
        "cloud_pct": observed_tab.cloud_pct, "temp_c": observed_tab.temp_c, "precip_mm_day": observed_tab.precip,
        "solar_mj_m2_day": observed_tab.solar, "temp_delta_c": generate.temp_delta,
        "precip_pct": generate.precip_pct, "mode": generate.mode, "control_months_before": generate.control_before,
        "model_id": settings.model, "seed": settings.seed, "steps": settings.steps, "guidance": settings.guidance,
        "size_px": settings.size_px, "controlnet": settings.controlnet, "lora": settings.lora,
        "lora_scale": settings.lora_scale, "start": timelapse.start, "end": timelapse.end,
        "climate_source": timelapse.source, "chain": timelapse.chain, "side_by_side": timelapse.side_by_side,
        "video_format": timelapse.video_format, "fps": timelapse.fps, "temp_deltas_text": grid.temps,
        "precip_pcts_text": grid.precips,
    }  # fmt: skip
    generate_outputs = [
        results.scenario, results.today, results.slider, results.metrics, exports.prompts,
        exports.png, exports.tif, exports.recipe, exports.html_map, results.results,
    ]  # fmt: skip
    generate_event = dict(
        fn=handlers.generate_endpoint,
        inputs=[widgets[name] for name in GENERATE_FIELDS],
        outputs=generate_outputs,
        show_progress_on=[results.scenario, generate.status],
        **generation,
    )
    map_after_generate = dict(
        fn=handlers.map_for_results,
        inputs=[results.results],
        outputs=[map_area.map_html],
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=None,
    )
    generate.generate.click(api_name="generate", **generate_event).success(**map_after_generate)

    recipe_targets = [widgets[name] for name in GENERATE_FIELDS] + [generate.preset]
    recipe_loaded = exports.load_recipe.click(
        handlers.load_recipe,
        [exports.recipe_upload],
        recipe_targets,
        api_name="load_recipe",
        show_progress_on=[generate.status],
    )
    # The recipe's point is shown on the map; its climate is kept (not re-observed), then it regenerates.
    recipe_loaded.success(handlers.point_typed, [map_area.lat, map_area.lon], point_outputs, **pointing).success(
        api_visibility="private", **generate_event
    ).success(**map_after_generate)

    # ---- time-lapse and grid ------------------------------------------------------------------------
    timelapse.run.click(
        handlers.timelapse_endpoint,
        [widgets[name] for name in TIMELAPSE_FIELDS],
        [timelapse.gif, timelapse.mp4, timelapse.file, timelapse.summary],
        api_name="timelapse",
        show_progress_on=[timelapse.summary, timelapse.gif],
        **generation,
    )
    timelapse.video_format.change(
        Handlers.preview_for_format, [timelapse.video_format], [timelapse.gif, timelapse.mp4],
        api_visibility="private",
    )  # fmt: skip
    grid.run.click(
        handlers.grid_endpoint,
        [widgets[name] for name in GRID_FIELDS],
        [grid.image, grid.file],
        api_name="scenario_grid",
        show_progress_on=[grid.image],
        **generation,
    )

    # Cancelling is cooperative (core checks a threading.Event between steps) rather than
    # `cancels=`: killing the task would leave the worker thread running outside the queue slot.
    for button in (generate.cancel, timelapse.cancel, grid.cancel):
        button.click(handlers.cancel, None, generate.status, api_visibility="private", concurrency_limit=None)
    # A new run starts with an empty status line (no "Cancel requested" left from the last one).
    for button in (generate.generate, timelapse.run, grid.run):
        button.click(
            Handlers.clear_status, None, generate.status, api_visibility="private", concurrency_limit=None,
            show_progress="hidden",
        )  # fmt: skip
