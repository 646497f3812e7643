"""The Blocks layout and the event wiring. Only lays out and connects: the work is in app.handlers."""

from __future__ import annotations

from datetime import date

import gradio as gr

from app.handlers import CLIMATE_SOURCES, GENERATION_MODES, TIMELAPSE_CHAINS, Handlers
from app.map_picker import build_map
from core.climate_values import PRECIP_MM_DAY_RANGE, SOLAR_MJ_M2_DAY_RANGE, TEMP_C_RANGE
from core.geo import Month

# Generation events share one queue slot: one generation at a time per process (one GPU),
# while map clicks and observations run beside it.
GENERATION_QUEUE = "generation"
OBSERVE_CONCURRENCY = 4

CSS = """
#model-banner { background: #fff4e5; border: 1px solid #f0b45b; border-radius: 8px; padding: 6px 12px; }
#model-banner:empty { display: none; }
#place-line p { margin: 4px 0; }
"""


def default_month(today: date | None = None) -> str:
    """Two months back: the latest month whose imagery and climate are usually published."""
    return str(Month.of(today or date.today()) - 2)


def build_blocks(
    handlers: Handlers, banner: str, model_choices: list[str], land_cover_classes: tuple[str, ...]
) -> gr.Blocks:
    """The whole app. `banner` is the model warning (empty for a ready real model)."""
    config = handlers.config
    with gr.Blocks(title="EcoMapper Studio") as demo:
        gr.Markdown(
            "# EcoMapper Studio\nClick a place, pick a month, look at the real Sentinel-2 image and NASA POWER "
            "climate, then generate the place under another climate."
        )
        gr.Markdown(banner, elem_id="model-banner")
        observation = gr.State(None)

        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                map_html = build_map(config.leaflet_url)
                with gr.Row():
                    lat = gr.Number(label="Latitude (°)", precision=5, elem_id="lat", minimum=-90, maximum=90)
                    lon = gr.Number(label="Longitude (°)", precision=5, elem_id="lon", minimum=-180, maximum=180)
                    go = gr.Button("Go to point", elem_id="go-point", scale=0)
                with gr.Row():
                    place_query = gr.Textbox(
                        label="Find a place (offline gazetteer)",
                        placeholder="e.g. Nairobi or Paris, FR",
                        elem_id="place-query",
                        scale=3,
                    )
                    search = gr.Button("Search", elem_id="place-search", scale=0)
                place_results = gr.Dropdown(label="Matches", choices=[], visible=False, elem_id="place-results")
                place_line = gr.Markdown("Click the map to pick a place.", elem_id="place-line")
            with gr.Column(scale=4):
                month = gr.Textbox(label="Month (YYYY-MM)", value=default_month(), elem_id="month")
                observe_btn = gr.Button("Observe", variant="secondary", elem_id="observe")
                # Progress bars and error badges of observing land here, not over the results.
                observe_status = gr.Markdown("", elem_id="observe-status", min_height=36)
                land_cover = gr.Dropdown(
                    label="Land cover (looked up, overridable)",
                    choices=list(land_cover_classes),
                    value=None,
                    elem_id="land-cover",
                )
                land_cover_note = gr.Markdown("")
                cloud_pct = gr.Slider(0, 100, value=0, step=1, label="Cloud cover (%)", elem_id="cloud")
                use_observed = gr.Checkbox(
                    value=True, label="Use observed climate (NASA POWER)", elem_id="use-observed"
                )
                temp_c = gr.Slider(*TEMP_C_RANGE, value=20.0, step=0.1, label="Temperature (°C)", elem_id="temp")
                precip = gr.Slider(
                    *PRECIP_MM_DAY_RANGE, value=2.0, step=0.05, label="Precipitation (mm/day)", elem_id="precip"
                )
                solar = gr.Slider(
                    *SOLAR_MJ_M2_DAY_RANGE, value=18.0, step=0.1, label="Solar radiation (MJ/m²/day)", elem_id="solar"
                )
                with gr.Row():
                    temp_delta = gr.Slider(-10, 10, value=0, step=0.5, label="Scenario: temperature change (°C)")
                    precip_pct = gr.Slider(-100, 200, value=0, step=5, label="Scenario: precipitation change (%)")
                effective = gr.Markdown(
                    Handlers.effective_climate(20.0, 2.0, 18.0, 0.0, 0.0), elem_id="effective-climate"
                )
                with gr.Accordion("Advanced", open=False):
                    model = gr.Dropdown(
                        label="Model",
                        choices=model_choices,
                        value=config.model_id,
                        allow_custom_value=True,
                        elem_id="model",
                    )
                    mode = gr.Radio(
                        list(GENERATION_MODES), value="text", label="Mode (ControlNet uses an earlier real month)"
                    )
                    control_before = gr.Slider(1, 6, value=1, step=1, label="ControlNet: months before")
                    seed = gr.Number(label="Seed", value=0, precision=0, minimum=0)
                    steps = gr.Slider(1, 100, value=28, step=1, label="Denoising steps", elem_id="steps")
                    guidance = gr.Slider(0.0, 15.0, value=7.5, step=0.5, label="Guidance scale")
                    size_px = gr.Radio([512, 1024], value=512, label="Size (px)", elem_id="size")
                    controlnet = gr.Textbox(
                        label="ControlNet weights (folder or Hub id; tiny-random for the test model)",
                        value="tiny-random" if config.model_id == "tiny-random" else "",
                        elem_id="controlnet",
                    )
                    with gr.Row():
                        lora = gr.Textbox(label="LoRA (file, folder or Hub id; optional)", value="", elem_id="lora")
                        lora_scale = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="LoRA scale")

        with gr.Tabs():
            with gr.Tab("Observed", id="observed"):
                with gr.Row():
                    observed_image = gr.Image(
                        label="Sentinel-2 true colour", type="numpy", format="png", elem_id="observed-image"
                    )
                    observed_info = gr.Markdown(elem_id="observed-info")
                climate_plot = gr.Plot(label="Climate over recent years (NASA POWER)")
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(label="Observation")
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    generate_btn = gr.Button("Generate", variant="primary", elem_id="generate")
                    cancel_btn = gr.Button("Cancel", variant="stop", elem_id="cancel")
                generate_status = gr.Markdown("", elem_id="generate-status", min_height=36)
                generated = gr.Image(label="Generated", type="numpy", format="png", elem_id="generated-image")
                prompts_md = gr.Markdown(elem_id="prompts")
                with gr.Row():
                    png_file = gr.File(label="PNG (with metadata)", elem_id="png-file", height=90)
                    tif_file = gr.File(label="GeoTIFF", elem_id="tif-file", height=90)
                    recipe_file = gr.File(label="Recipe JSON", elem_id="recipe-file", height=90)
                with gr.Row():
                    recipe_upload = gr.File(
                        label="Load a recipe (regenerates the same image)",
                        file_types=[".json"],
                        height=120,
                        elem_id="recipe-upload",
                    )
                    load_recipe_btn = gr.Button("Load recipe and generate", elem_id="load-recipe", scale=0)
            with gr.Tab("Compare", id="compare"):
                slider = gr.ImageSlider(label="Real | generated", type="numpy", format="png", elem_id="compare-slider")
                metrics_md = gr.Markdown(elem_id="metrics")
            with gr.Tab("Time-lapse", id="timelapse"):
                with gr.Row():
                    tl_start = gr.Textbox(
                        label="Start month", value=str(Month.parse(default_month()) - 5), elem_id="tl-start"
                    )
                    tl_end = gr.Textbox(label="End month", value=default_month(), elem_id="tl-end")
                    tl_source = gr.Radio(
                        list(CLIMATE_SOURCES), value="observed", label="Climate (scenario = observed + change)"
                    )
                    tl_chain = gr.Radio(
                        list(TIMELAPSE_CHAINS),
                        value="independent",
                        label="Frames (controlnet: each month grown from the previous; needs ControlNet weights)",
                    )
                with gr.Row():
                    tl_side = gr.Checkbox(label="Real | generated side by side", value=False, elem_id="tl-side")
                    tl_format = gr.Radio(["gif", "mp4"], value="gif", label="Format", elem_id="tl-format")
                    tl_fps = gr.Slider(0.5, 10, value=2, step=0.5, label="Frames per second")
                with gr.Row():
                    tl_btn = gr.Button("Make time-lapse", variant="primary", elem_id="timelapse")
                    tl_cancel = gr.Button("Cancel", variant="stop")
                tl_gif = gr.Image(label="Preview", type="filepath", elem_id="tl-gif", visible=True)
                tl_mp4 = gr.Video(label="Preview", elem_id="tl-mp4", visible=False)
                tl_file = gr.File(label="Download", elem_id="tl-file", height=90)
                tl_summary = gr.Markdown(elem_id="tl-summary", min_height=36)
            with gr.Tab("Scenario grid", id="grid"):
                with gr.Row():
                    grid_temps = gr.Textbox(label="Temperature changes (°C)", value="0, 2, 4")
                    grid_precips = gr.Textbox(label="Precipitation changes (%)", value="-30, 0, 30")
                    grid_btn = gr.Button("Make grid", variant="primary", elem_id="grid")
                    grid_cancel = gr.Button("Cancel", variant="stop", elem_id="grid-cancel")
                gallery = gr.Gallery(label="Scenario variants", columns=3, format="png", elem_id="grid-gallery")

        # ---- wiring ----------------------------------------------------------------------------
        point_outputs = [lat, lon, map_html, place_line]
        observe_inputs = [lat, lon, month]
        observe_outputs = [
            observed_image,
            observed_info,
            climate_plot,
            details,
            land_cover,
            land_cover_note,
            cloud_pct,
            observation,
        ]
        climate_sliders = [temp_c, precip, solar]

        fill_climate = dict(
            fn=Handlers.fill_observed_climate,
            inputs=[use_observed, observation],
            outputs=climate_sliders,
            api_visibility="private",
        )
        # Progress and error badges go on the result views only, never over the inputs the
        # handler also writes (land cover, cloud), which must stay usable after an error.
        observing = dict(
            concurrency_limit=OBSERVE_CONCURRENCY, concurrency_id="observe", show_progress_on=[observe_status]
        )
        # The public endpoint is registered first so that it keeps the plain name "observe".
        observe_btn.click(handlers.observe, observe_inputs, observe_outputs, api_name="observe", **observing).success(
            **fill_climate
        )

        def observe_after(event):
            """After a point is set (click, typed, searched): observe it and fill the climate sliders."""
            event.success(
                handlers.observe, observe_inputs, observe_outputs, api_visibility="private", **observing
            ).success(**fill_climate)

        # Point events are quick and never wait behind a generation or an observation. Their
        # error badge goes on the place line: on lat/lon or the map it would cover the inputs to fix.
        pointing = dict(api_visibility="private", concurrency_limit=None, show_progress_on=[place_line])
        observe_after(map_html.map_click(handlers.map_clicked, None, point_outputs, **pointing))
        observe_after(
            gr.on([go.click, lat.submit, lon.submit], handlers.point_typed, [lat, lon], point_outputs, **pointing)
        )
        observe_after(
            gr.on(
                [search.click, place_query.submit],
                handlers.search_place,
                [place_query],
                [place_results, *point_outputs],
                **pointing,
            )
        )
        observe_after(place_results.input(handlers.place_picked, [place_results], point_outputs, **pointing))
        use_observed.input(**fill_climate)

        scenario_inputs = [temp_c, precip, solar, temp_delta, precip_pct]
        for widget in scenario_inputs:
            widget.change(
                Handlers.effective_climate, scenario_inputs, effective, api_visibility="private", show_progress="hidden"
            )

        generation = dict(concurrency_limit=1, concurrency_id=GENERATION_QUEUE)
        generation_shown_on = dict(show_progress_on=[generate_status])
        # fmt: off
        generate_inputs = [
            lat, lon, month, land_cover, cloud_pct, temp_c, precip, solar, temp_delta, precip_pct,
            mode, control_before, model, seed, steps, guidance, size_px, controlnet, lora, lora_scale, observation,
        ]
        # fmt: on
        generate_outputs = [generated, slider, metrics_md, prompts_md, png_file, tif_file, recipe_file]
        generate_btn.click(
            handlers.generate,
            generate_inputs,
            generate_outputs,
            api_name="generate",
            **generation,
            **generation_shown_on,
        )

        # fmt: off
        recipe_targets = [
            lat, lon, month, land_cover, cloud_pct, temp_c, precip, solar, temp_delta, precip_pct,
            mode, control_before, seed, steps, guidance, size_px, model, controlnet, lora, lora_scale, use_observed,
        ]
        # fmt: on
        recipe_loaded = load_recipe_btn.click(
            handlers.load_recipe,
            [recipe_upload],
            recipe_targets,
            api_name="load_recipe",
            show_progress_on=[generate_status],
        )
        # The recipe's point is shown on the map and the place line too, not only in the number boxes.
        recipe_loaded.success(handlers.point_typed, [lat, lon], point_outputs, **pointing)
        recipe_loaded.success(
            handlers.generate,
            generate_inputs,
            generate_outputs,
            api_visibility="private",
            **generation,
            **generation_shown_on,
        )

        # fmt: off
        timelapse_inputs = [
            lat, lon, tl_start, tl_end, tl_source, temp_delta, precip_pct, tl_chain, tl_side, tl_format, tl_fps,
            land_cover, cloud_pct, model, seed, steps, guidance, size_px, controlnet, lora, lora_scale,
        ]
        # fmt: on
        tl_btn.click(
            handlers.timelapse,
            timelapse_inputs,
            [tl_gif, tl_mp4, tl_file, tl_summary],
            api_name="timelapse",
            show_progress_on=[tl_summary],
            **generation,
        )
        tl_format.change(Handlers.preview_for_format, [tl_format], [tl_gif, tl_mp4], api_visibility="private")
        # fmt: off
        grid_inputs = [
            lat, lon, month, land_cover, cloud_pct, temp_c, precip, solar, grid_temps, grid_precips,
            model, seed, steps, guidance, size_px, lora, lora_scale,
        ]
        # fmt: on
        grid_btn.click(
            handlers.scenario_grid,
            grid_inputs,
            [gallery],
            api_name="scenario_grid",
            show_progress_on=[gallery],
            **generation,
        )

        # Cancelling is cooperative (core checks a threading.Event between steps) rather than
        # `cancels=`: killing the task would leave the worker thread running outside the queue slot.
        cancel_status = gr.Markdown(elem_id="cancel-status")
        for button in (cancel_btn, tl_cancel, grid_cancel):
            button.click(handlers.cancel, None, cancel_status, api_visibility="private", concurrency_limit=None)
    return demo
