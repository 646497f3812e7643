"""Event handlers: plain functions that turn widget values into core requests and core results into
widget values. They hold no model or network code; every call goes to `core`.

Core modules are imported inside the handlers: importing the app stays light (no torch), and a
missing optional piece shows up as a clear error on use rather than at start.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from app import formatting
from app.map_picker import map_value
from app.state import AppConfig, CancelRegistry, EngineHolder, Observation
from core.climate_values import ClimateValues
from core.errors import BadRequestError, CancelledError, EcoMapperError, NoImageryError
from core.geo import Footprint, Month, Point, month_range

log = logging.getLogger(__name__)

# How many months of climate the Observed chart shows (ending with the selected month).
CHART_MONTHS = 48
# Longest time-lapse the app accepts in one go (each month is one generation).
MAX_TIMELAPSE_MONTHS = 36
GENERATION_MODES = ("text", "controlnet")
CLIMATE_SOURCES = ("observed", "scenario")
# "independent": every frame from the same seed; "controlnet": each frame grown from the previous one.
TIMELAPSE_CHAINS = ("independent", "controlnet")


def shown_errors(fn: Callable) -> Callable:
    """Turn our errors into `gr.Error` (the message is shown; inputs and earlier outputs stay).

    Anything unexpected is logged with its traceback and shown as a short generic message.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except CancelledError as err:
            raise gr.Error(str(err), title="Cancelled") from err
        except EcoMapperError as err:
            raise gr.Error(str(err)) from err
        except Exception as err:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(
                f"Unexpected error ({type(err).__name__}: {err}). The details are in the server log; "
                "please report it with the inputs you used."
            ) from err

    return wrapper


def _progress_bridge(progress: gr.Progress) -> Callable[[int, int, str], None]:
    """Adapt core's `progress(step, total, message)` to Gradio's progress bar."""

    def report(step: int, total: int, message: str = "") -> None:
        progress((int(step), int(total)) if total else None, desc=message or None)

    return report


def _point(lat: float | None, lon: float | None) -> Point:
    if lat is None or lon is None:
        raise BadRequestError("No point is selected.", "Click the map or type a latitude and a longitude.")
    return Point(float(lat), float(lon))


def _month(text: str | None, what: str = "month") -> Month:
    if not text:
        raise BadRequestError(f"The {what} is empty.", "Write it as YYYY-MM, for example 2020-02.")
    return Month.parse(str(text))


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "no-session"


def _place_label(point: Point) -> tuple[str, str | None, str]:
    """('State, Country', state, country) from the offline reverse geocoder."""
    from core.sources.places import reverse_geocode

    place = reverse_geocode(point)
    label = place.label()
    if place.nearest_place:
        label = f"near {place.nearest_place}, {label}"
    return label, place.state, place.country


class Handlers:
    """The app's event handlers, bound to one configuration, one model holder and one cancel registry."""

    def __init__(self, config: AppConfig, engines: EngineHolder | None = None) -> None:
        self.config = config
        self.settings = config.settings
        self.engines = engines or EngineHolder(_load_pipeline)
        self.cancels = CancelRegistry()
        self._metric_cache: dict[str, object] = {}

    # ---- point selection -------------------------------------------------------------------

    def _point_outputs(self, lat: float | None, lon: float | None, fly: bool) -> tuple:
        point = _point(lat, lon)
        footprint = Footprint.around(point)
        label, _, _ = _place_label(point)
        place_md = f"Point **{point.label()}** — {label} · footprint 5.12 km x 5.12 km ({footprint.crs})"
        return (
            round(point.lat, 5),
            round(point.lon, 5),
            map_value(point.lat, point.lon, footprint.geojson(), fly),
            place_md,
        )

    @shown_errors
    def map_clicked(self, evt: gr.EventData) -> tuple:
        """A click on the map: the point, the footprint drawn back on the map, the place name."""
        data = getattr(evt, "_data", None) or {}
        lat, lon = data.get("lat"), data.get("lon")
        return self._point_outputs(lat, lon, fly=False)

    @shown_errors
    def point_typed(self, lat: float | None, lon: float | None) -> tuple:
        """Latitude/longitude typed in the number boxes: move the map there."""
        return self._point_outputs(lat, lon, fly=True)

    @shown_errors
    def search_place(self, query: str) -> tuple:
        """Offline name search: fills the choices and jumps to the best match."""
        from core.sources.place_search import search_places

        matches = search_places(query, limit=10)
        if not matches:
            raise BadRequestError(
                f"No place called {query.strip()!r} is in the offline gazetteer (towns of 1000+ people).",
                "Check the spelling, add ', country' to narrow it, or click the map.",
            )
        choices = [(m.label(), f"{m.lat},{m.lon}") for m in matches]
        best = matches[0]
        return (
            gr.update(choices=choices, value=choices[0][1], visible=True),
            *self._point_outputs(best.lat, best.lon, fly=True),
        )

    @shown_errors
    def place_picked(self, choice: str | None) -> tuple:
        """One of the search results chosen in the dropdown."""
        if not choice:
            raise BadRequestError("No search result is selected.", "Search for a place first.")
        lat_text, _, lon_text = str(choice).partition(",")
        return self._point_outputs(float(lat_text), float(lon_text), fly=True)

    # ---- observe -----------------------------------------------------------------------------

    @shown_errors
    def observe(self, lat: float | None, lon: float | None, month: str, progress: gr.Progress = gr.Progress()):
        """The real Sentinel-2 image of the month, its metadata, the climate chart and land cover.

        Returns (image, info Markdown, climate figure, details dict, land-cover choice, land-cover note,
        cloud %, observation state).
        """
        from app.charts import climate_figure
        from core.sources.climate import climate_for_month, fetch_climate
        from core.sources.imagery import fetch_scene
        from core.sources.landcover import lookup_land_cover

        point, chosen = _point(lat, lon), _month(month).ensure_not_future()
        started = time.perf_counter()
        progress(0.05, desc="Searching Sentinel-2 scenes and reading the footprint")
        scene = fetch_scene(point, chosen, self.settings)
        progress(0.6, desc="Fetching NASA POWER climate")
        climate_values: ClimateValues | None = None
        figure = None
        climate_note = ""
        try:
            dataset = fetch_climate(point, chosen - (CHART_MONTHS - 1), chosen, self.settings)
            figure = climate_figure(
                dataset, highlight=chosen.first_day, title=f"NASA POWER monthly climate at {point.label()}"
            )
            climate_values = climate_for_month(dataset, chosen)
        except EcoMapperError as err:
            # The image is still worth showing; the climate sliders stay as they were.
            climate_note = str(err)
            gr.Warning(f"Climate: {err}")
        progress(0.85, desc="Looking up land cover and place")
        lookup = lookup_land_cover(point, self.settings)
        place_label, state, country = _place_label(point)
        land_cover_line = (
            f"{lookup.land_cover} ({lookup.source})"
            if lookup.land_cover
            else f"not found — choose one ({lookup.message})"
        )
        climate_line = (
            formatting.format_climate(
                climate_values.temp_c, climate_values.precip_mm_day, climate_values.solar_mj_m2_day
            )
            if climate_values
            else None
        )
        info = formatting.format_observation(
            point_label=point.label(),
            place_label=place_label,
            month=str(chosen),
            acquired=scene.acquired,
            scene_id=scene.scene_id,
            cloud_fraction=scene.cloud_fraction,
            nodata_fraction=scene.nodata_fraction,
            provider=scene.provider,
            climate_line=climate_line or (f"not available ({climate_note})" if climate_note else None),
            land_cover_line=land_cover_line,
        )
        details = {
            "point": {"lat": point.lat, "lon": point.lon},
            "month": str(chosen),
            "scene": scene.to_metadata(),
            "climate": climate_values.as_dict() if climate_values else None,
            "land_cover": {"class": lookup.land_cover, "source": lookup.source, "shares": lookup.shares},
            "place": {"state": state, "country": country},
            "elapsed_s": round(time.perf_counter() - started, 3),
        }
        observation = Observation(
            lat=point.lat,
            lon=point.lon,
            month=str(chosen),
            image=scene.image,
            metadata=scene.to_metadata(),
            climate=climate_values.as_dict() if climate_values else None,
            land_cover=lookup.land_cover,
            state=state,
            country=country,
        )
        land_cover_note = (
            f"Looked up: **{lookup.land_cover}** ({lookup.source}); you can override it."
            if lookup.land_cover
            else f"⚠️ Land cover not found ({lookup.message}): choose one."
        )
        cloud_pct = round(100.0 * scene.cloud_fraction, 1)
        return scene.image, info, figure, details, lookup.land_cover, land_cover_note, cloud_pct, observation

    @staticmethod
    def fill_observed_climate(use_observed: bool, observation: Observation | None) -> tuple:
        """Copy the observed month's climate into the sliders when "use observed climate" is on."""
        if not use_observed or observation is None or not observation.climate:
            return gr.update(), gr.update(), gr.update()
        values = observation.climate
        return (
            round(values["temp_c"], 1),
            round(values["precip_mm_day"], 2),
            round(values["solar_mj_m2_day"], 1),
        )

    @staticmethod
    def preview_for_format(video_format: str) -> tuple:
        """Show the GIF preview (an image) or the MP4 preview (a video player), not both."""
        return gr.update(visible=video_format == "gif"), gr.update(visible=video_format == "mp4")

    @staticmethod
    def effective_climate(
        temp_c: float, precip_mm_day: float, solar_mj_m2_day: float, temp_delta_c: float, precip_pct: float
    ) -> str:
        """The climate the model will be asked for: sliders plus the scenario change."""
        try:
            values = _climate(temp_c, precip_mm_day, solar_mj_m2_day, temp_delta_c, precip_pct)
        except EcoMapperError as err:
            return f"⚠️ {err}"
        return "Generation climate: " + formatting.format_climate(
            values.temp_c, values.precip_mm_day, values.solar_mj_m2_day
        )

    # ---- generate ---------------------------------------------------------------------------

    def _request(
        self,
        point: Point,
        month: Month,
        land_cover: str | None,
        cloud_pct: float,
        seed: int,
        steps: int,
        guidance: float,
        size_px: int,
        progress: gr.Progress,
        *,
        climate: ClimateValues | None = None,
        mode: str = "text",
        control_months_before: int = 1,
    ):
        """The core request; time-lapse and grid pass a text-only base that core varies per month or scenario."""
        from core.generate import GenerationRequest, fetch_control_image

        if not land_cover:
            raise BadRequestError("No land cover is chosen.", "Observe the place to look it up, or pick one.")
        if mode not in GENERATION_MODES:
            raise BadRequestError(f"Unknown mode {mode!r}.", f"Use one of {', '.join(GENERATION_MODES)}.")
        _, state, country = _place_label(point)
        control_image = None
        control_month = None
        if mode == "controlnet":
            control_month = month - int(control_months_before)
            progress(0.02, desc=f"Fetching the control image of {control_month}")
            try:
                control_image, _ = fetch_control_image(point, control_month, int(size_px), self.settings)
            except NoImageryError as err:
                raise NoImageryError(
                    f"ControlNet needs a real image {int(control_months_before)} month(s) earlier: {err.problem}",
                    "Pick another 'months before' value (1 to 6) or use text-to-image.",
                ) from err
        return GenerationRequest(
            point=point,
            month=month,
            land_cover=land_cover,
            cloud_fraction=float(cloud_pct) / 100.0,
            climate=climate,
            seed=int(seed),
            num_inference_steps=int(steps),
            guidance_scale=float(guidance),
            size_px=int(size_px),
            mode=mode,
            control_image=control_image,
            control_month=control_month,
            state=state,
            country=country,
        )

    def _engine(
        self,
        model_id: str,
        mode: str,
        progress: gr.Progress,
        controlnet: str = "",
        lora: str = "",
        lora_scale: float = 1.0,
    ):
        from core.models import ModelSpec

        chosen = (model_id or self.config.model_id).strip()
        progress(0.05, desc=f"Loading model {chosen}")
        controlnet_id = (controlnet or "").strip() or None
        if mode == "controlnet" and controlnet_id is None:
            raise BadRequestError(
                "ControlNet mode needs ControlNet weights, and none are set.",
                "Give a ControlNet folder or Hub id under Advanced (tiny-random for the tiny test model), "
                "or use text-to-image.",
            )
        spec = ModelSpec(
            model_id=chosen,
            controlnet=controlnet_id if mode == "controlnet" else None,
            lora=(lora or "").strip() or None,
            lora_scale=float(lora_scale),
        )
        return self.engines.get(spec, self.settings, progress=_progress_bridge(progress))

    def _run(self, request: gr.Request | None, job: Callable[[Any], Any]) -> Any:
        session = _session(request)
        cancel = self.cancels.start(session)
        try:
            return job(cancel)
        finally:
            self.cancels.finish(session, cancel)

    @shown_errors
    def generate(
        self,
        lat: float | None,
        lon: float | None,
        month: str,
        land_cover: str | None,
        cloud_pct: float,
        temp_c: float,
        precip_mm_day: float,
        solar_mj_m2_day: float,
        temp_delta_c: float,
        precip_pct: float,
        mode: str,
        control_months_before: int,
        model_id: str,
        seed: int,
        steps: int,
        guidance: float,
        size_px: int,
        controlnet: str,
        lora: str,
        lora_scale: float,
        observation: Observation | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ):
        """One image for the month and climate, compared with the real image when there is one.

        Returns (generated image, slider pair, metrics Markdown, prompts Markdown, PNG, GeoTIFF, recipe).
        """
        from core.export import footprint_georeference, result_metadata, write_geotiff, write_png, write_recipe
        from core.generate import generate_images

        point, chosen = _point(lat, lon), _month(month)
        climate = _climate(temp_c, precip_mm_day, solar_mj_m2_day, temp_delta_c, precip_pct)
        req = self._request(
            point,
            chosen,
            land_cover,
            cloud_pct,
            seed,
            steps,
            guidance,
            size_px,
            progress,
            climate=climate,
            mode=mode,
            control_months_before=control_months_before,
        )
        engine = self._engine(model_id, mode, progress, controlnet, lora, lora_scale)
        result = self._run(
            request,
            lambda cancel: generate_images(
                req, engine, self.settings, progress=_progress_bridge(progress), cancel=cancel
            ),
        )
        image = np.asarray(result.images[0], dtype=np.uint8)
        progress(0.9, desc="Comparing with the real image and writing exports")
        reference = self._reference(point, chosen, observation)
        metrics_md = self._metrics(reference, image, result.prompts.spatial)
        stem = formatting.safe_filename(
            formatting.point_stem(point.lat, point.lon), str(chosen), f"seed{req.seed}", mode
        )
        folder = self._output_folder(request)
        png = write_png(image, folder / f"{stem}.png", result_metadata(result))
        crs, transform = footprint_georeference(point, image.shape[0])
        tif = write_geotiff(image, folder / f"{stem}.tif", crs, transform)
        recipe = write_recipe(result.request, folder / f"{stem}.recipe.json", model=result.model_info)
        slider = (reference, image) if reference is not None else (image, image)
        prompts_md = (
            f"**Spatial prompt** (CLIP): {result.prompts.spatial}\n\n"
            f"**Climate prompt** (T5): {result.prompts.climate}\n\n"
            f"Model `{result.model_id}`, seed {result.seed}; {formatting.format_timings(result.timings_s or {})}"
        )
        return image, slider, metrics_md, prompts_md, str(png), str(tif), str(recipe)

    def _reference(self, point: Point, month: Month, observation: Observation | None):
        """The real image for the compare view: the observed one, or fetched (cached) if another point/month."""
        if observation is not None and observation.matches(point.lat, point.lon, str(month)):
            return np.array(observation.image, dtype=np.uint8)  # a writable copy (torch warns on read-only)
        try:
            return _fetch_scene(point, month, self.settings).image
        except EcoMapperError as err:
            gr.Warning(f"No real image to compare with: {err}")
            return None

    def _metrics(self, reference: np.ndarray | None, generated: np.ndarray, spatial_prompt: str) -> str:
        if reference is None:
            return "No real image of this month to compare with."
        from core import metrics

        candidate = _resize_like(generated, reference)
        values: dict[str, float | str | None] = {
            "SSIM (higher is closer)": metrics.ssim(reference, candidate),
            "PSNR dB (higher is closer)": metrics.psnr(reference, candidate),
        }
        values.update(_optional_metrics(self.settings, self._metric_cache, reference, candidate, spatial_prompt))
        return formatting.format_metrics(values)

    def _output_folder(self, request: gr.Request | None) -> Path:
        folder = self.config.output_dir / formatting.safe_filename(_session(request))
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def cancel(self, request: gr.Request) -> str:
        """The cancel button: ask the running job of this session to stop."""
        if self.cancels.cancel(_session(request)):
            gr.Info("Cancelling: the current step finishes first.")
            return "Cancel requested."
        # Also a toast: the status line sits below the tabs, out of sight of the Cancel buttons.
        gr.Info("Nothing is running.")
        return "Nothing is running."

    # ---- recipes -----------------------------------------------------------------------------

    @shown_errors
    def load_recipe(self, path: str | None) -> tuple:
        """Fill every control from a recipe JSON (the generate event chained after it regenerates).

        Returns the values of: lat, lon, month, land cover, cloud %, temperature, precipitation,
        solar radiation, both scenario changes (0: the recipe holds the final climate), mode,
        ControlNet months before, seed, steps, guidance, size, model, ControlNet, LoRA, LoRA scale,
        and "use observed climate" (off, so the recipe's climate is kept).
        """
        from core.export import read_recipe, read_recipe_model

        if not path:
            raise BadRequestError("No recipe file was given.", "Upload a *.recipe.json written by this app.")
        req = read_recipe(Path(path))
        spec = read_recipe_model(Path(path))
        climate = req.climate
        control_before = (req.month - req.control_month) if req.control_month is not None else 1
        climate_values = (
            (climate.temp_c, climate.precip_mm_day, climate.solar_mj_m2_day)
            if climate is not None
            else (gr.update(), gr.update(), gr.update())
        )
        model_values = (
            (spec.model_id, spec.controlnet or "", spec.lora or "", spec.lora_scale)
            if spec is not None
            else (gr.update(), gr.update(), gr.update(), gr.update())
        )
        return (
            req.point.lat,
            req.point.lon,
            str(req.month),
            req.land_cover,
            100.0 * req.cloud_fraction,
            *climate_values,
            0.0,
            0.0,
            req.mode,
            int(control_before),
            req.seed,
            req.num_inference_steps,
            req.guidance_scale,
            req.size_px,
            *model_values,
            False,
        )

    # ---- time-lapse and scenario grid --------------------------------------------------------

    @shown_errors
    def timelapse(
        self,
        lat: float | None,
        lon: float | None,
        start: str,
        end: str,
        climate_source: str,
        temp_delta_c: float,
        precip_pct: float,
        chain: str,
        side_by_side: bool,
        video_format: str,
        fps: float,
        land_cover: str | None,
        cloud_pct: float,
        model_id: str,
        seed: int,
        steps: int,
        guidance: float,
        size_px: int,
        controlnet: str,
        lora: str,
        lora_scale: float,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ):
        """A generated image per month from `start` to `end`, written as a GIF or MP4.

        Returns (GIF preview, MP4 preview, file to download, summary Markdown).
        """
        from core.generate import TimeSeriesRequest, generate_time_series
        from core.timelapse import caption_for, write_timelapse

        point = _point(lat, lon)
        first, last = _month(start, "start month"), _month(end, "end month")
        months = month_range(first, last)
        if len(months) > MAX_TIMELAPSE_MONTHS:
            raise BadRequestError(
                f"{len(months)} months is too long for one time-lapse in the app.",
                f"Pick at most {MAX_TIMELAPSE_MONTHS} months (the command line has no such limit).",
            )
        if climate_source not in CLIMATE_SOURCES:
            raise BadRequestError(f"Unknown climate source {climate_source!r}.", "Use 'observed' or 'scenario'.")
        if chain not in TIMELAPSE_CHAINS:
            raise BadRequestError(f"Unknown frame chaining {chain!r}.", f"Use one of {', '.join(TIMELAPSE_CHAINS)}.")
        if video_format not in ("gif", "mp4"):
            raise BadRequestError(f"Unknown format {video_format!r}.", "Use gif or mp4.")
        scenario = climate_source == "scenario"
        temp_delta = float(temp_delta_c or 0.0) if scenario else 0.0
        precip_scale = 1.0 + float(precip_pct or 0.0) / 100.0 if scenario else 1.0
        mode = "controlnet" if chain == "controlnet" else "text"
        base = self._request(point, first, land_cover, cloud_pct, seed, steps, guidance, size_px, progress)
        series_request = TimeSeriesRequest(
            base=base, start=first, end=last, temp_delta_c=temp_delta, precip_scale=precip_scale, chain=chain
        )
        engine = self._engine(model_id, mode, progress, controlnet, lora, lora_scale)
        series = self._run(
            request,
            lambda cancel: generate_time_series(
                series_request, engine, self.settings, progress=_progress_bridge(progress), cancel=cancel
            ),
        )
        frames = [np.asarray(image, dtype=np.uint8) for image in series.images]
        captions = [caption_for(m, c) for m, c in zip(series.months, series.climates, strict=True)]
        reals = self._real_frames(point, series.months, frames[0].shape, progress) if side_by_side else None
        folder = self._output_folder(request)
        stem = formatting.safe_filename(
            formatting.point_stem(point.lat, point.lon), f"{first}_{last}", climate_source, f"seed{int(seed)}"
        )
        path = write_timelapse(frames, captions, folder / f"{stem}.{video_format}", fps=fps, side_by_side=reals)
        summary = (
            f"{len(frames)} frames, {first} to {last}, {climate_source} climate"
            + (f" ({formatting.scenario_label(temp_delta, precip_scale * 100.0 - 100.0)})" if scenario else "")
            + (", real | generated side by side" if reals is not None else "")
            + (", each frame grown from the previous one (ControlNet)" if chain == "controlnet" else "")
            + f", {fps:g} frames/s."
        )
        is_gif = video_format == "gif"
        return (str(path) if is_gif else None, None if is_gif else str(path), str(path), summary)

    def _real_frames(self, point: Point, months: list[Month], shape: tuple, progress: gr.Progress) -> list[np.ndarray]:
        """The real image of each month for the side-by-side view; a grey frame where none exists."""
        frames = []
        for i, m in enumerate(months):
            progress((i, len(months)), desc=f"Fetching the real image of {m}")
            try:
                frames.append(_resize_like(_fetch_scene(point, m, self.settings).image, np.zeros(shape, np.uint8)))
            except NoImageryError:
                frames.append(np.full(shape, 128, dtype=np.uint8))
        return frames

    @shown_errors
    def scenario_grid(
        self,
        lat: float | None,
        lon: float | None,
        month: str,
        land_cover: str | None,
        cloud_pct: float,
        temp_c: float,
        precip_mm_day: float,
        solar_mj_m2_day: float,
        temp_deltas_text: str,
        precip_pcts_text: str,
        model_id: str,
        seed: int,
        steps: int,
        guidance: float,
        size_px: int,
        lora: str,
        lora_scale: float,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ):
        """A gallery of temperature x precipitation variants of one month, each labelled."""
        from core.generate import ScenarioGridRequest, generate_scenario_grid

        point, chosen = _point(lat, lon), _month(month)
        temp_deltas = _number_list(temp_deltas_text, "temperature changes (°C)")
        precip_pcts = _number_list(precip_pcts_text, "precipitation changes (%)")
        base_climate = _climate(temp_c, precip_mm_day, solar_mj_m2_day, 0.0, 0.0)
        base = self._request(
            point, chosen, land_cover, cloud_pct, seed, steps, guidance, size_px, progress, climate=base_climate
        )
        grid_request = ScenarioGridRequest(
            base=base, temp_deltas_c=tuple(temp_deltas), precip_scales=tuple(1.0 + p / 100.0 for p in precip_pcts)
        )
        engine = self._engine(model_id, "text", progress, lora=lora, lora_scale=lora_scale)
        grid = self._run(
            request,
            lambda cancel: generate_scenario_grid(
                grid_request, engine, self.settings, progress=_progress_bridge(progress), cancel=cancel
            ),
        )
        items = []
        for delta, row in zip(grid.temp_deltas_c, grid.cells, strict=True):
            for pct, cell in zip(precip_pcts, row, strict=True):
                climate = cell.request.climate
                label = (
                    f"{formatting.scenario_label(delta, pct)}: "
                    f"{climate.temp_c:.1f} °C, {climate.precip_mm_day:.2f} mm/day"
                )
                items.append((np.asarray(cell.image, dtype=np.uint8), label))
        return items


# ---- helpers used by several handlers -----------------------------------------------------------


def _climate(temp_c, precip_mm_day, solar_mj_m2_day, temp_delta_c, precip_pct) -> ClimateValues:
    for name, value in (
        ("temperature", temp_c),
        ("precipitation", precip_mm_day),
        ("solar radiation", solar_mj_m2_day),
    ):
        if value is None:
            raise BadRequestError(f"The {name} is empty.", "Set the slider or tick 'use observed climate' and observe.")
    base = ClimateValues(float(temp_c), float(precip_mm_day), float(solar_mj_m2_day))
    return base.with_scenario(float(temp_delta_c or 0.0), 1.0 + float(precip_pct or 0.0) / 100.0)


def _number_list(text: str, what: str) -> list[float]:
    parts = [p for p in str(text or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise BadRequestError(f"The list of {what} is empty.", "Write numbers separated by commas, e.g. 0, 2, 4.")
    try:
        return [float(p) for p in parts]
    except ValueError as err:
        raise BadRequestError(
            f"The list of {what} {text!r} has something that is not a number.",
            "Write numbers separated by commas, e.g. -20, 0, 20.",
        ) from err


def _fetch_scene(point: Point, month: Month, settings):
    from core.sources.imagery import fetch_scene

    return fetch_scene(point, month, settings)


def _resize_like(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`image` resized (Lanczos) to the height and width of `like` when they differ."""
    if image.shape[:2] == like.shape[:2]:
        return image
    from PIL import Image

    height, width = like.shape[:2]
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS), dtype=np.uint8)


def _optional_metrics(
    settings, cache: dict, reference: np.ndarray, candidate: np.ndarray, prompt: str
) -> dict[str, float | str]:
    """LPIPS and CLIP score when their weights are on this machine (never downloaded here); a note otherwise.

    The loaded metric networks are kept in `cache` so later comparisons reuse them.
    """
    from core import metrics

    available = metrics.available_metrics(settings)
    values: dict[str, float | str] = {}
    for key, label, build, compute in (
        (
            "lpips",
            "LPIPS (lower is closer)",
            lambda: metrics.LpipsMetric(settings, download=False),
            lambda m: m.score(reference[None], candidate[None])[0],
        ),
        (
            "clip",
            "CLIP score vs spatial prompt",
            lambda: metrics.ClipScoreMetric(settings, download=False),
            lambda m: m.score(candidate, [prompt])[0],
        ),
    ):
        if not available[key].available:
            values[label] = "n/a: weights not on this machine"
            continue
        try:
            if key not in cache:
                cache[key] = build()
            values[label] = float(compute(cache[key]))
        except EcoMapperError as err:
            values[label] = f"n/a: {err.problem}"
    return values


def _load_pipeline(spec, settings, progress=None):
    """A generation engine (pipeline + prompt-embedding cache) for a model spec."""
    from core.models.engine import Engine

    return Engine.load(spec, settings, progress=progress)
