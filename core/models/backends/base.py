"""The peer generator interface: the one `GenerationRequest` in, one image out.

Every peer family (DiffusionSat, GeoSynth, map-sat, Text2Earth) reads the product's one request
(`core.generation.request.GenerationRequest`) and declares in `Uses` which parts of it it reads; the
rest is listed in the result's `ignored`, so a side-by-side sheet can say why two images differ. The
SD3 family runs on the generation engine (`core.models.engine`) and needs no backend class.
"""

from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.generation.progress import ProgressCallback, report_or_cancel

if TYPE_CHECKING:  # the request is read, never built, here
    from core.generation.request import GenerationRequest

NO_DATE = "month (no date input)"


@dataclass(frozen=True)
class Uses:
    """What a family reads from a request.

    Attributes:
        metadata: place, date, ground size and cloud as numbers (DiffusionSat).
        text: a prompt built from land cover, place and month.
        climate: the month's temperature, precipitation and radiation.
        control: the kind of control image read ("osm", "canny", "sam", "image") or None.
        land_cover: reads the land cover class without a prompt (COP-GEN: as a land-cover map).
        layout: reads a box layout (AeroGen: `request.boxes`).
        reference: reads the real image of the month (ZoomLDM: its DINOv2 features); fetched when not given.
        source_bands: img2img from the real scene's reflectance bands (COP-GEN: B04 B03 B02 B08); fetched.
        date: reads the month (in its prompt or as a number); TerraMind reads only coordinates, no timestamp.
    """

    metadata: bool = False
    text: bool = True
    climate: bool = False
    control: str | None = None
    land_cover: bool = False
    layout: bool = False
    reference: bool = False
    source_bands: bool = False
    date: bool = True

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def ignored_parts(request: GenerationRequest, uses: Uses) -> tuple[str, ...]:
    """The parts of `request` a family with `uses` does not read, in words."""
    ignored = []
    if request.climate is not None and not uses.climate:
        ignored.append("climate")
    if request.has_scenario and not uses.climate:
        ignored.append("scenario")
    if not uses.text:
        # COP-GEN reads the land cover as a map, not through a prompt
        no_text = "place names" if uses.land_cover else "land cover and place names"
        ignored.append(f"{no_text} (no text prompt)")
    if not uses.metadata and uses.text:
        ignored.append("coordinates as numbers (only place names reach the prompt)")
    if request.control_image is not None and uses.control is None:
        ignored.append("control image")
    if getattr(request, "boxes", ()) and not uses.layout:
        ignored.append("box layout")
    if not uses.date and (uses.text or uses.metadata):  # without either, "land cover and place names" covers it
        ignored.append(NO_DATE)
    return tuple(ignored)


def unread_inputs(uses: Uses) -> tuple[str, ...]:
    """What a family never reads of any request, in words (for listings; `ignored_parts` is per request)."""
    unread = [] if uses.climate else ["climate", "scenario"]
    if not uses.text and not uses.metadata:
        source = "the real image of the month" if uses.reference else f"an {uses.control.upper()} layout"
        unread.append(f"land cover, place names and month (reads only {source})")
    elif not uses.text:
        unread.append("place names (no text prompt)" if uses.land_cover else "land cover and place names")
    elif not uses.metadata:
        unread.append("coordinates as numbers")
    if not uses.layout:
        unread.append("box layout")
    if not uses.date and (uses.text or uses.metadata):
        unread.append(NO_DATE)
    return tuple(unread)


@dataclass(frozen=True)
class BandMap:
    """A single-layer map a generator made on its bands' grid (TerraMind: its own NDVI, its land-cover map).

    Attributes:
        array: float32 H x W (class maps: the class index as a number).
        unit: what a value means (e.g. "NDVI", "class index").
        classes: class names by index, for class maps; empty otherwise.
    """

    array: np.ndarray = field(repr=False)
    unit: str
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bands:
    """Bands a generator made beside its RGB preview (COP-GEN: Sentinel-2 L2A B04 B03 B02 B08; TerraMind: 12 bands).

    Attributes:
        arrays: band name -> float32 H x W, all the same shape, in `unit`.
        m_per_px: ground size of one pixel (the GeoTIFF grid is built from it, not from the footprint).
        unit: "reflectance" (0..1, Sentinel-2 L2A digital numbers / 10000).
        maps: other layers on the same grid, by file-name part (e.g. "tm_ndvi", "land_cover"); written beside.
    """

    arrays: dict[str, np.ndarray] = field(repr=False)
    m_per_px: float
    unit: str = "reflectance"
    maps: dict[str, BandMap] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        shapes = {name: array.shape for name, array in self.arrays.items()}
        if not shapes or len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 2:
            raise ValueError(f"bands must be 2-D arrays of one shape, got {shapes}")
        odd = {name: layer.array.shape for name, layer in self.maps.items() if layer.array.shape not in shapes.values()}
        if odd:
            raise ValueError(f"maps must have the bands' shape {next(iter(shapes.values()))}, got {odd}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.arrays)

    @property
    def size_px(self) -> int:
        return next(iter(self.arrays.values())).shape[0]


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
        bands: extra bands beside the RGB image (multispectral generators), or None.
    """

    image: np.ndarray = field(repr=False)
    backend_id: str
    prompt: str
    conditioning: dict[str, Any]
    ignored: tuple[str, ...]
    control_image: np.ndarray | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    timings_s: dict[str, float] = field(default_factory=dict)
    bands: Bands | None = None


class Backend(ABC):
    """A loaded generator. Subclasses set `backend_id` and `uses` and implement `generate`."""

    backend_id: str
    uses: Uses

    @property
    def model_id(self) -> str:
        """The id the product knows this generator by (as an SD3 engine's `model_id`)."""
        return self.backend_id

    @abstractmethod
    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> BackendResult:
        """Make one image for `request` (raises `CancelledError` when `cancel` is set)."""


def step_callback(progress: ProgressCallback | None, cancel: threading.Event | None, total: int, label: str):
    """A diffusers `callback_on_step_end` reporting progress and stopping when `cancel` is set."""

    def on_step_end(_pipe, step, _timestep, callback_kwargs):
        report_or_cancel(progress, cancel, step + 1, total, f"{label}: step {step + 1}/{total}",
                         f"{label}: cancelled at step {step + 1} of {total}.")  # fmt: skip
        return callback_kwargs

    return on_step_end


def to_uint8(frame) -> np.ndarray:
    """A diffusers "np" output frame (float 0..1) as uint8."""
    return (np.clip(frame, 0.0, 1.0) * 255.0).round().astype(np.uint8)
