"""The backend interface: one request (place, month, land cover, cloud, climate, scenario, control) -> one image.

Every generator family (SD3, DiffusionSat, GeoSynth, map-sat, Text2Earth) reads the same
`BackendRequest` and declares in `Uses` which parts of it it reads; the rest is listed in the
result's `ignored`, so a side-by-side sheet can say why two images differ.
"""

from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month, Point
from core.sources.land_cover_classes import LAND_COVER_CLASSES

ProgressCallback = Callable[[int, int, str], None]

# Where a layout-conditioned generator gets its control image.
LAYOUTS = ("osm", "canny", "image")
# EcoMapper's footprint: 512 px of Sentinel-2 at 10 m.
FOOTPRINT_M = 5120.0


@dataclass(frozen=True)
class Uses:
    """What a family reads from a request.

    Attributes:
        metadata: place, date, ground size and cloud as numbers (DiffusionSat).
        text: a prompt built from land cover, place and month.
        climate: the month's temperature, precipitation and radiation.
        control: the kind of control image read ("osm", "canny", "sam", "image") or None.
    """

    metadata: bool = False
    text: bool = True
    climate: bool = False
    control: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BackendRequest:
    """One image to make, the same for every backend.

    Args:
        point, month: the place and month.
        land_cover: one of the 15 EcoMapper classes.
        cloud_fraction: 0..1.
        climate: the month's climate the image should show, or None; derived when `observed_climate`
            and a `core.climate.scenario.Scenario` are given.
        scenario: the `core.climate.scenario.Scenario` applied to the observed climate (or None).
        observed_climate: the month's observed climate, before the scenario.
        seed, num_inference_steps, guidance_scale, size_px: as in `core.generation.request`; guidance and
            steps None take the backend's own defaults.
        control_image: uint8 H x W x 3 (a real earlier image, or a layout), or None to let the
            backend build its layout (OSM tiles, Canny edges of `reference_image`).
        reference_image: the real image of the place (Sentinel-2), used for Canny layouts.
        layout: "osm", "canny" or "image" (use `control_image` as given); None = the backend's default.
        state, country: place names for prompts ("" country = look it up offline).
        day: day of month for date metadata (a monthly product: mid-month by default).
    """

    point: Point
    month: Month
    land_cover: str
    cloud_fraction: float = 0.0
    climate: ClimateValues | None = None
    scenario: Any = None
    observed_climate: ClimateValues | None = None
    seed: int = 0
    num_inference_steps: int | None = None
    guidance_scale: float | None = None
    size_px: int = 512
    control_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    reference_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    layout: str | None = None
    state: str | None = None
    country: str = ""
    day: int = 15

    def __post_init__(self) -> None:
        if not isinstance(self.point, Point):
            raise BadRequestError(f"The point {self.point!r} is not a Point.", "Pass core.geo.Point(lat, lon).")
        object.__setattr__(self, "month", Month.parse(self.month))
        if self.land_cover not in LAND_COVER_CLASSES:
            raise BadRequestError(
                f"Unknown land cover {self.land_cover!r}.", f"Use one of: {', '.join(LAND_COVER_CLASSES)}."
            )
        if self.observed_climate is not None and self.scenario is not None:
            final = self.scenario.apply(self.observed_climate, self.month)
            if self.climate is not None and self.climate != final:
                raise BadRequestError(
                    "Both a climate and an observed climate with a scenario were given, and they disagree.",
                    "Give the observed climate and the scenario (the climate is derived), or only the climate.",
                )
            object.__setattr__(self, "climate", final)
        elif self.observed_climate is not None and self.climate is None:
            object.__setattr__(self, "climate", self.observed_climate)
        cloud = self.cloud_fraction
        if isinstance(cloud, bool) or not isinstance(cloud, (int, float)) or not 0.0 <= cloud <= 1.0:
            raise BadRequestError(f"The cloud fraction {cloud!r} is not 0..1.", "Give a fraction from 0 to 1.")
        if self.layout is not None and self.layout not in LAYOUTS:
            raise BadRequestError(f"Unknown layout {self.layout!r}.", f"Use one of {', '.join(LAYOUTS)}.")
        if self.layout == "image" and self.control_image is None:
            raise BadRequestError("Layout 'image' needs a control image.", "Pass control_image, or use osm / canny.")
        if isinstance(self.day, bool) or not isinstance(self.day, int) or not 1 <= self.day <= 31:
            raise BadRequestError(f"The day {self.day!r} is not 1..31.", "Give a day of the month.")
        size = self.size_px
        if isinstance(size, bool) or not isinstance(size, int) or size % 8 or not 64 <= size <= 1024:
            raise BadRequestError(f"The size {size!r} px is not a multiple of 8 in 64..1024.", "Use 256 or 512.")
        for name in ("control_image", "reference_image"):
            image = getattr(self, name)
            if image is not None and (
                not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3
            ):
                raise BadRequestError(f"The {name} is not a uint8 H x W x 3 array.", "Give an 8-bit RGB image.")

    @property
    def has_scenario(self) -> bool:
        """A scenario other than today's climate."""
        return self.scenario is not None and not getattr(self.scenario, "is_today", False)

    @property
    def scenario_label(self) -> str:
        return "" if self.scenario is None else str(getattr(self.scenario, "label", self.scenario))

    @property
    def ground_m_per_px(self) -> float:
        """Ground size of one generated pixel when the image shows the 5.12 km footprint."""
        return FOOTPRINT_M / self.size_px

    def with_place(self, settings: Any = None) -> BackendRequest:
        """This request with state and country looked up when no country was given (`settings`: the
        admin-1 polygon containing the point, as `GenerationRequest.with_place`; None: the nearest town)."""
        if self.country.strip():
            return self
        from core.sources.places import reverse_geocode

        place = reverse_geocode(self.point, settings)
        return dataclasses.replace(self, state=self.state or place.state, country=place.country)

    def replace(self, **changes: Any) -> BackendRequest:
        return dataclasses.replace(self, **changes)

    def ignored_by(self, uses: Uses) -> tuple[str, ...]:
        """The parts of this request a family with `uses` does not read, in words."""
        ignored = []
        if self.climate is not None and not uses.climate:
            ignored.append("climate")
        if self.has_scenario and not uses.climate:
            ignored.append("scenario")
        if not uses.text:
            ignored.append("land cover and place names (no text prompt)")
        if not uses.metadata and uses.text:
            ignored.append("coordinates as numbers (only place names reach the prompt)")
        if self.control_image is not None and uses.control is None:
            ignored.append("control image")
        return tuple(ignored)


@dataclass(frozen=True)
class BackendResult:
    """One generated image and what went into it.

    Attributes:
        image: uint8 H x W x 3.
        backend_id: which backend made it.
        prompt: the text prompt used ("" when the family reads none).
        conditioning: what else was fed (metadata vector, layout source, resolution prefix, ...).
        ignored: request parts the family does not read.
        control_image: the layout / control image used, or None.
        warnings: things the user should know (scale differs from Sentinel-2, random weights, ...).
        timings_s: stage timings.
    """

    image: np.ndarray = field(repr=False)
    backend_id: str
    prompt: str
    conditioning: dict[str, Any]
    ignored: tuple[str, ...]
    control_image: np.ndarray | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    timings_s: dict[str, float] = field(default_factory=dict)


class Backend(ABC):
    """A loaded generator. Subclasses set `backend_id` and `uses` and implement `generate`."""

    backend_id: str
    uses: Uses

    @abstractmethod
    def generate(
        self,
        request: BackendRequest,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> BackendResult:
        """Make one image for `request` (raises `CancelledError` when `cancel` is set)."""


def step_callback(progress: ProgressCallback | None, cancel: threading.Event | None, total: int, label: str):
    """A diffusers `callback_on_step_end` reporting progress and stopping when `cancel` is set."""
    from core.errors import CancelledError

    def on_step_end(_pipe, step, _timestep, callback_kwargs):
        if progress is not None:
            progress(step + 1, total, f"{label}: step {step + 1}/{total}")
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"{label}: cancelled at step {step + 1} of {total}.", "Start it again when ready.")
        return callback_kwargs

    return on_step_end


def to_uint8(frame) -> np.ndarray:
    """A diffusers "np" output frame (float 0..1) as uint8."""
    return (np.clip(frame, 0.0, 1.0) * 255.0).round().astype(np.uint8)
