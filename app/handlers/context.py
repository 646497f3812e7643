"""What every handler shares: how the app was started, the one loaded model and the cancel flags,
with the small helpers around them (the session's output folder, cancelling, progress)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr

from app.export_guard import session_cookie
from app.forms import ModelChoice
from app.handlers import requests
from app.state import AppConfig, CancelRegistry, EngineHolder
from core import services
from core.config import Settings
from core.errors import BadRequestError, CancelledError


def session_of(request: gr.Request | Any) -> str:
    return getattr(request, "session_hash", None) or "no-session"


def export_key(request: gr.Request | Any) -> str:
    """Whose exports: the browser's session cookie (what the file route checks), else the Gradio session."""
    cookies = getattr(request, "cookies", None) or {}
    return session_cookie(dict(cookies)) or session_of(request)


def progress_bridge(progress: gr.Progress) -> Callable[[int, int, str], None]:
    """Adapt core's `progress(step, total, message)` to Gradio's progress bar."""

    def report(step: int, total: int, message: str = "") -> None:
        progress((int(step), int(total)) if total else None, desc=message or None)

    return report


def stop_if_cancelled(cancel: threading.Event, stage: str) -> None:
    """Between stages (loading, fetching): stop here when Cancel was pressed."""
    if cancel.is_set():
        raise CancelledError(f"Cancelled {stage}.", "Start it again when ready.")


class AppContext:
    """One configuration, one model holder and one cancel registry, shared by the handlers."""

    def __init__(self, config: AppConfig, engines: EngineHolder | None = None) -> None:
        self.config = config
        # one loaded base shared by every mode, ControlNet and LoRA scale (no reload on a switch)
        self.engines = engines or EngineHolder(services.shared_engine_loader())
        self.cancels = CancelRegistry()
        # the GPU option `pick_option` takes for the card found (on CPU: none); probed on first need
        self.gpu = services.GpuPicker(config.settings.device)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def output_folder(self, request: gr.Request | None) -> Path:
        """The session's own export folder, named by a server-side random id (see core.services.session_exports)."""
        return self.config.exports.folder(export_key(request))

    def engine_for(self, model: ModelChoice, mode: str, progress: gr.Progress, spec: Any = None) -> tuple[Any, Any]:
        """(engine, model spec) for `model` in `mode` (loaded once, kept across requests); `spec`: these
        weights instead of the form's (the quick preview's LoRA on the same base)."""
        if mode == "controlnet" and not model.controlnet:
            raise BadRequestError(
                "ControlNet mode needs ControlNet weights, and none are set.",
                "Give a ControlNet folder or Hub id in Settings (tiny-random for the tiny test model).",
            )
        progress(0.05, desc=f"Loading model {model.model_id}")
        # with a preview LoRA on disk every mode loads the base carrying it at scale 0: one base, no reload
        spec = spec or services.with_preview_base(requests.model_spec(model, mode), self.settings)
        spec = self.gpu.apply(spec)
        return self.engines.get(spec, self.settings, progress=progress_bridge(progress)), spec

    def model_notes(self, model_id: str) -> str:
        """The Settings tab's lines under the model: the quick preview (on, or why not) and the GPU option."""
        return f"{services.preview_hint(model_id, self.settings)}\n\n{self.gpu.note(model_id)}"

    @contextmanager
    def cancellable(self, request: gr.Request | None) -> Iterator[threading.Event]:
        """The cancel flag of this session's job, set up as the job starts (so Cancel works while the
        model loads too) and removed when it ends."""
        session = session_of(request)
        cancel = self.cancels.start(session)
        try:
            yield cancel
        finally:
            self.cancels.finish(session, cancel)
