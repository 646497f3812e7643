"""What the app keeps between events: the loaded model (one per process), cancel flags per browser
session, and the per-session record of the last observation (kept in gr.State)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import Settings
from core.services import SessionExports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppConfig:
    """How the app was started.

    Args:
        settings: endpoints, cache and checkpoints (from `Settings.from_env()`).
        model_id: the default model (`sd3-medium`, `tiny-random` or a local diffusers folder).
        output_dir: where exports (PNG, GeoTIFF, GIF/MP4, recipes) are written for download.
        leaflet_url: base URL of Leaflet's `dist` folder.
        exports: which folder under `output_dir` is whose (one random-named folder per session).
    """

    settings: Settings
    model_id: str
    output_dir: Path
    leaflet_url: str
    exports: SessionExports | None = None

    def __post_init__(self) -> None:
        if self.exports is None:
            object.__setattr__(self, "exports", SessionExports(self.output_dir))


class EngineHolder:
    """Loads a pipeline on first use and keeps exactly one in memory.

    The model is never loaded at import or at start: the first generation pays for it (with a
    progress bar), later ones reuse it. Asking for another spec drops the old pipeline first, so
    two large models never sit in memory together.
    """

    def __init__(self, loader: Callable[..., Any]) -> None:
        self._loader = loader
        self._lock = threading.Lock()
        self._spec: Any = None
        self._engine: Any = None

    def get(self, spec: Any, settings: Settings, progress: Callable[[int, int, str], None] | None = None) -> Any:
        """The loaded pipeline for `spec`, loading it if needed (serialised across threads)."""
        with self._lock:
            if self._engine is not None and self._spec == spec:
                return self._engine
            self._engine = None
            self._spec = None
            log.info("loading model %s", spec)
            engine = self._loader(spec, settings, progress=progress)
            self._engine, self._spec = engine, spec
            return engine

    @property
    def loaded_spec(self) -> Any:
        return self._spec


class CancelRegistry:
    """One `threading.Event` per browser session: the cancel button sets it, core polls it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}

    def start(self, session: str) -> threading.Event:
        """A fresh, unset event for a new job of this session."""
        with self._lock:
            event = threading.Event()
            self._events[session] = event
            return event

    def cancel(self, session: str) -> bool:
        """Set the session's event; False when it has no job."""
        with self._lock:
            event = self._events.get(session)
        if event is None:
            return False
        event.set()
        return True

    def running(self, session: str) -> bool:
        """Whether the session has a job running now."""
        with self._lock:
            return session in self._events

    def finish(self, session: str, event: threading.Event) -> None:
        with self._lock:
            if self._events.get(session) is event:
                del self._events[session]


@dataclass
class Observation:
    """The last observation of a session (kept in gr.State): what "today" and "real" refer to.

    `image` is None when the month has no scene; `climate` is None when POWER has no value.
    """

    lat: float
    lon: float
    month: str
    image: Any = None  # np.uint8 H x W x 3, or None
    image_path: str | None = None  # the PNG the map overlays (served from the output folder)
    acquired: str | None = None
    climate: dict | None = None  # ClimateValues.as_dict() of the month, when POWER had it
    land_cover: str | None = None
    state: str | None = None
    country: str = ""
    footprint: dict | None = None  # GeoJSON polygon of the footprint
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def matches(self, lat: float, lon: float, month: str) -> bool:
        return abs(self.lat - lat) < 1e-6 and abs(self.lon - lon) < 1e-6 and self.month == month


@dataclass
class GeneratedResults:
    """The last Generate of a session (gr.State): where its images lie, for the map overlay."""

    lat: float
    lon: float
    month: str
    footprint: dict | None
    bbox: tuple[float, float, float, float]
    image_path: str
    label: str
    real_path: str | None = None
    real_label: str = ""
    today_path: str | None = None  # today's image (same seed): the map compares it with the scenario
