"""Event handlers: thin adapters from widget values (read once into a form) to core and from core's
results to widget values. One module per area; `Handlers` binds them to one configuration, one
model holder and one cancel registry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr

from app import formatting
from app.forms import GenerateForm, ObservedClimateForm, read_scenario
from app.handlers import bridge
from app.handlers.generate import GenerateHandlers, generate_endpoint
from app.handlers.models import ModelsHandlers, models_endpoint
from app.handlers.observe import ObserveHandlers
from app.handlers.point import PointHandlers
from app.handlers.projection import ProjectionHandlers
from app.handlers.recipes import RecipeHandlers
from app.handlers.series import SeriesHandlers, grid_endpoint, timelapse_endpoint
from app.state import AppConfig, CancelRegistry, EngineHolder
from core import services
from core.climate.scenario import SCENARIO_PRESETS, Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError, CancelledError, EcoMapperError
from core.geo import Point

log = logging.getLogger(__name__)

CUSTOM_PRESET = "Custom"


def _session(request: gr.Request | Any) -> str:
    return getattr(request, "session_hash", None) or "no-session"


class Handlers(
    PointHandlers, ObserveHandlers, GenerateHandlers, SeriesHandlers, RecipeHandlers, ModelsHandlers, ProjectionHandlers
):
    """The app's event handlers, bound to one configuration, one model holder and one cancel registry."""

    def __init__(self, config: AppConfig, engines: EngineHolder | None = None) -> None:
        self.config = config
        self.settings = config.settings
        # one loaded base shared by every mode, ControlNet and LoRA scale (no reload on a switch)
        self.engines = engines or EngineHolder(services.shared_engine_loader())
        self.cancels = CancelRegistry()
        self.generate_endpoint = generate_endpoint(self)
        self.timelapse_endpoint = timelapse_endpoint(self)
        self.grid_endpoint = grid_endpoint(self)
        self.models_endpoint = models_endpoint(self)

    # ---- start-up -------------------------------------------------------------------------------

    def warm_up_in_background(self) -> threading.Thread:
        """Load the place look-up now, before the first click (it takes seconds when cold)."""
        thread = threading.Thread(target=self._warm_up, args=(self.settings,), name="ecomapper-warm-up", daemon=True)
        thread.start()
        return thread

    @staticmethod
    def _warm_up(settings) -> None:
        try:
            bridge.warm_up(settings)
        except Exception as err:  # a failed warm-up only makes the first click slower
            log.warning("warming up the place look-up failed: %s", err)

    def default_month_for(self, point: Point) -> str:
        """The latest month with a published NASA POWER monthly value and a Sentinel-2 scene at `point`."""
        return str(services.latest_month(point, self.settings))

    @staticmethod
    def default_timelapse_range() -> tuple[str, str]:
        """The last complete 12 months."""
        start, end = services.default_timelapse_range()
        return str(start), str(end)

    # ---- shared by the generating handlers -----------------------------------------------------

    def output_folder(self, request: gr.Request | str | None) -> Path:
        name = request if isinstance(request, str) else _session(request)
        folder = self.config.output_dir / formatting.safe_filename(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def progress_bridge(progress: gr.Progress) -> Callable[[int, int, str], None]:
        """Adapt core's `progress(step, total, message)` to Gradio's progress bar."""

        def report(step: int, total: int, message: str = "") -> None:
            progress((int(step), int(total)) if total else None, desc=message or None)

        return report

    def engine_for(self, form: GenerateForm, progress: gr.Progress, mode: str | None = None):
        """(engine, model spec) for the form's model in `mode` (loaded once, kept across requests)."""
        mode = mode or form.mode
        model = form.model
        if mode == "controlnet" and not model.controlnet:
            raise BadRequestError(
                "ControlNet mode needs ControlNet weights, and none are set.",
                "Give a ControlNet folder or Hub id in Settings (tiny-random for the tiny test model).",
            )
        progress(0.05, desc=f"Loading model {model.model_id}")
        spec = services.ModelSpec(
            model_id=model.model_id,
            controlnet=model.controlnet if mode == "controlnet" else None,
            lora=model.lora,
            lora_scale=model.lora_scale,
        )
        return self.engines.get(spec, self.settings, progress=self.progress_bridge(progress)), spec

    @contextmanager
    def cancellable(self, request: gr.Request | None) -> Iterator[threading.Event]:
        """The cancel flag of this session's job, set up as the job starts (so Cancel works while the
        model loads too) and removed when it ends."""
        session = _session(request)
        cancel = self.cancels.start(session)
        try:
            yield cancel
        finally:
            self.cancels.finish(session, cancel)

    @staticmethod
    def stop_if_cancelled(cancel: threading.Event, stage: str) -> None:
        """Between stages (loading, fetching): stop here when Cancel was pressed."""
        if cancel.is_set():
            raise CancelledError(f"Cancelled {stage}.", "Start it again when ready.")

    def cancel(self, request: gr.Request) -> str:
        """The Cancel button: ask the running job of this session to stop (core checks between steps)."""
        if self.cancels.cancel(_session(request)):
            return "Cancel requested: the run stops after its current step."
        return "Nothing is running."

    @staticmethod
    def clear_status() -> str:
        return ""

    # ---- scenario controls ---------------------------------------------------------------------

    @staticmethod
    def preset_labels() -> list[str]:
        """The presets for class use ('Today', 'Warmer (+2 °C)', 'Hot and dry (+4 °C, −30 % rain)', ...)."""
        return [_preset_label(p) for p in SCENARIO_PRESETS] + [CUSTOM_PRESET]

    @staticmethod
    def preset_chosen(label: str) -> tuple:
        for preset in SCENARIO_PRESETS:
            if _preset_label(preset) == label:
                change = preset.change
                return change.temp_delta_c, change.precip_change_pct
        return gr.skip(), gr.skip()

    @staticmethod
    def preset_label_for(temp_delta_c, precip_pct) -> str:
        """The preset whose change the two numbers are, else 'Custom'."""
        try:
            scenario = read_scenario(temp_delta_c, precip_pct)
        except BadRequestError:
            return CUSTOM_PRESET
        return _preset_label(scenario) if scenario in SCENARIO_PRESETS else CUSTOM_PRESET

    def preset_for_numbers(self, temp_delta_c, precip_pct) -> str:
        """Moving a slider selects the matching preset, or 'Custom'."""
        return self.preset_label_for(temp_delta_c, precip_pct)

    @staticmethod
    def scenario_line(temp_delta_c, precip_pct, temp_c, precip_mm_day, solar) -> str:
        """'Scenario: +4 °C, −30 % rain → 32.0 °C · 1.08 mm/day (today 28.0 °C · 1.54 mm/day)'."""
        try:
            scenario = read_scenario(temp_delta_c, precip_pct)
            observed = ObservedClimateForm.read(temp_c, precip_mm_day, solar)
            if not observed.complete:
                return f"Scenario: **{scenario.label}** (today's climate comes with the observation of the month)"
            today = ClimateValues(observed.temp_c, observed.precip_mm_day, observed.solar_mj_m2_day)
            final = scenario.apply(today)
        except EcoMapperError as err:
            return f"⚠️ {err}"
        return (
            f"Scenario: **{scenario.label}** → {final.temp_c:.1f} °C · {final.precip_mm_day:.2f} mm/day "
            f"(today {today.temp_c:.1f} °C · {today.precip_mm_day:.2f} mm/day)"
        )

    @staticmethod
    def preview_for_format(video_format: str) -> tuple:
        """Show the GIF preview (an image) or the MP4 preview (a video player), not both."""
        return gr.update(visible=video_format == "gif"), gr.update(visible=video_format == "mp4")


def _preset_label(preset: Scenario) -> str:
    """'Today', '+2 °C', '+4 °C, −30 % rain', '+30 % rain' (the numbers say it; the name is in the labels)."""
    return "Today" if preset.is_today else preset.change.label()
