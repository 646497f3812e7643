"""Event handlers: thin adapters from widget values (read once into a form) to core and from core's
results to widget values. One module per area; `Handlers` binds them to one configuration, one
model holder and one cancel registry."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from app import formatting
from app.forms import GenerateForm, read_number
from app.handlers import bridge
from app.handlers.generate import GenerateHandlers, generate_endpoint
from app.handlers.observe import ObserveHandlers
from app.handlers.point import PointHandlers
from app.handlers.recipes import RecipeHandlers
from app.handlers.series import SeriesHandlers, grid_endpoint, timelapse_endpoint
from app.state import AppConfig, CancelRegistry, EngineHolder
from core.errors import BadRequestError

log = logging.getLogger(__name__)

# (label, temperature change °C, precipitation change %): scenarios a teacher can show in one click.
SCENARIO_PRESETS = (
    ("Today", 0.0, 0.0),
    ("+2 °C", 2.0, 0.0),
    ("+4 °C, 30 % less rain", 4.0, -30.0),
    ("Wetter (+30 % rain)", 0.0, 30.0),
)
CUSTOM_PRESET = "Custom"


def _session(request: gr.Request | Any) -> str:
    return getattr(request, "session_hash", None) or "no-session"


class Handlers(PointHandlers, ObserveHandlers, GenerateHandlers, SeriesHandlers, RecipeHandlers):
    """The app's event handlers, bound to one configuration, one model holder and one cancel registry."""

    def __init__(self, config: AppConfig, engines: EngineHolder | None = None) -> None:
        self.config = config
        self.settings = config.settings
        self.engines = engines or EngineHolder(bridge.load_engine)
        self.cancels = CancelRegistry()
        self.generate_endpoint = generate_endpoint(self)
        self.timelapse_endpoint = timelapse_endpoint(self)
        self.grid_endpoint = grid_endpoint(self)

    # ---- start-up -------------------------------------------------------------------------------

    def warm_up_in_background(self) -> threading.Thread:
        """Load the place look-up now, before the first click (it takes seconds when cold)."""
        thread = threading.Thread(target=self._warm_up, name="ecomapper-warm-up", daemon=True)
        thread.start()
        return thread

    @staticmethod
    def _warm_up() -> None:
        try:
            bridge.warm_up()
        except Exception as err:  # a failed warm-up only makes the first click slower
            log.warning("warming up the place look-up failed: %s", err)

    def default_month(self) -> str:
        return str(bridge.latest_month(self.settings))

    def default_timelapse_range(self) -> tuple[str, str]:
        """The last complete 12 months that have data (ending with the default month)."""
        last = bridge.latest_month(self.settings)
        return str(last - 11), str(last)

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
        mode = mode or form.mode
        model = form.model
        if mode == "controlnet" and not model.controlnet:
            raise BadRequestError(
                "ControlNet mode needs ControlNet weights, and none are set.",
                "Give a ControlNet folder or Hub id in Settings (tiny-random for the tiny test model).",
            )
        progress(0.05, desc=f"Loading model {model.model_id}")
        spec = bridge.model_spec(
            model.model_id, model.controlnet if mode == "controlnet" else None, model.lora, model.lora_scale
        )
        return self.engines.get(spec, self.settings, progress=self.progress_bridge(progress))

    def run_cancellable(self, request: gr.Request | None, job: Callable[[Any], Any]) -> Any:
        session = _session(request)
        cancel = self.cancels.start(session)
        try:
            return job(cancel)
        finally:
            self.cancels.finish(session, cancel)

    def cancel(self, request: gr.Request) -> str:
        """The Cancel button: ask the running job of this session to stop (core checks between steps)."""
        if self.cancels.cancel(_session(request)):
            return "Cancelling: the current step finishes first."
        return "Nothing is running."

    # ---- scenario controls ---------------------------------------------------------------------

    @staticmethod
    def preset_labels() -> list[str]:
        return [label for label, _, _ in SCENARIO_PRESETS] + [CUSTOM_PRESET]

    @staticmethod
    def preset_chosen(label: str) -> tuple:
        for name, temp, precip in SCENARIO_PRESETS:
            if name == label:
                return temp, precip
        return gr.skip(), gr.skip()

    @staticmethod
    def preset_label_for(temp_delta_c: float, precip_pct: float) -> str:
        for name, temp, precip in SCENARIO_PRESETS:
            if (temp, precip) == (float(temp_delta_c or 0), float(precip_pct or 0)):
                return name
        return CUSTOM_PRESET

    def preset_for_numbers(self, temp_delta_c: float, precip_pct: float) -> str:
        """Moving a slider selects the matching preset, or 'Custom'."""
        return self.preset_label_for(temp_delta_c, precip_pct)

    @staticmethod
    def scenario_line(temp_delta_c, precip_pct, temp_c, precip_mm_day, solar) -> str:
        """'Scenario: +2 °C → 21.3 °C · 0.10 mm/day' (the climate the model will be asked for)."""
        try:
            temp = read_number(temp_c, "observed temperature", required=False)
            precip = read_number(precip_mm_day, "observed precipitation", required=False)
            delta = float(temp_delta_c or 0.0)
            pct = float(precip_pct or 0.0)
        except BadRequestError as err:
            return f"⚠️ {err}"
        text = formatting.scenario_text(delta, pct)
        if temp is None or precip is None:
            return f"Scenario: {text} (the observed climate of the month comes with the first observation)"
        return (
            f"Scenario: **{text}** → {temp + delta:.1f} °C · {max(precip * (1 + pct / 100.0), 0.0):.2f} mm/day "
            f"(today {temp:.1f} °C · {precip:.2f} mm/day)"
        )

    @staticmethod
    def preview_for_format(video_format: str) -> tuple:
        """Show the GIF preview (an image) or the MP4 preview (a video player), not both."""
        return gr.update(visible=video_format == "gif"), gr.update(visible=video_format == "mp4")
