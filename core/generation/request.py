"""Requests to images: text-to-image, ControlNet from a real earlier month, time series and scenario grids.

A `GenerationRequest` says what to show (place, month, land cover, cloud, climate) and how
(seed, steps, guidance, size, mode). The engine (`core.models.engine.Engine`) turns the prompts
of `core.generation.prompts` into images, reusing text embeddings across frames. Real context comes from the
data layer: the control image from `core.sources.imagery.fetch_scene`, the observed climate from
`core.sources.climate`, the place names from `core.sources.places`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.climate.scenario import Scenario, round_climate
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.generation.prompts import PromptInputs, Prompts, build_prompts
from core.geo import Month, Point, month_range
from core.sources.land_cover_classes import LAND_COVER_CLASSES

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]

MODES = ("text", "controlnet", "img2img")
# Modes that start from (img2img) or are conditioned on (ControlNet) a real image.
IMAGE_MODES = ("controlnet", "img2img")
DEFAULT_STRENGTH = 0.6
# EcoMapper's footprint is 512 px; 1024 px is its high-resolution mode. Smaller sizes serve quick
# previews and the tiny test model. SD3 needs multiples of 16 (VAE 8x, transformer patch 2).
SIZE_MULTIPLE_PX = 16
MIN_SIZE_PX = 64
MAX_SIZE_PX = 1024
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 7.5
MAX_STEPS = 500
MAX_SEED = 2**63 - 1
SERIES_CHAINS = ("independent", "controlnet")


def _check_number(name: str, value: object, low: float, high: float, hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(f"The {name} {value!r} is not a number.", hint)
    if not low <= value <= high:
        raise BadRequestError(f"The {name} {value:g} is outside {low:g}..{high:g}.", hint)
    return float(value)


def check_control_image(image: object, size_px: int, what: str = "control image") -> np.ndarray:
    """A control image must be an 8-bit RGB array of exactly size_px x size_px.

    Raises:
        BadRequestError: naming the dtype / shape found and what is needed.
    """
    if not isinstance(image, np.ndarray):
        raise BadRequestError(
            f"The {what} is a {type(image).__name__}, not an image array.", "Pass a uint8 H x W x 3 numpy array."
        )
    if image.dtype != np.uint8:
        raise BadRequestError(
            f"The {what} has pixel type {image.dtype}, not 8-bit.", "Give an 8-bit RGB image (uint8, 0..255)."
        )
    if image.ndim != 3 or image.shape[2] != 3:
        channels = "grayscale" if image.ndim == 2 else f"{image.shape[2]}-channel" if image.ndim == 3 else "odd"
        raise BadRequestError(
            f"The {what} is {channels} (shape {image.shape}), not RGB.",
            "Give a 3-channel RGB image (convert RGBA / grayscale / palette images to RGB first).",
        )
    if image.shape[:2] != (size_px, size_px):
        raise BadRequestError(
            f"The {what} is {image.shape[1]} x {image.shape[0]} px, but the output size is {size_px} x {size_px} px.",
            f"Give a {size_px} x {size_px} image (the footprint at the output size), or change the size.",
        )
    return image


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate.

    Args:
        point: the place (footprint centre).
        month: the month to show.
        land_cover: one of the 15 EcoMapper classes.
        cloud_fraction: cloud cover to describe, 0..1.
        climate: the month's climate (observed or modified); None leaves it out of the prompt.
        seed: seed of the initial noise (same seed, same model, same device: same pixels).
        num_inference_steps: denoising steps (EcoMapper: 50).
        guidance_scale: classifier-free guidance (EcoMapper: 7.5; <= 1 turns it off).
        size_px: output width = height, a multiple of 16 from 64 to 1024 (512 = the footprint).
        mode: "text" (text-to-image), "controlnet" (conditioned on an earlier real image) or
            "img2img" (the real image of the month, an earlier month or an uploaded one, redrawn
            under the prompt's climate).
        control_image: uint8 size_px x size_px x 3 (ControlNet: control image; img2img: start image),
            or None to fetch `control_month` (img2img without either: the real image of `month`).
        control_month: the month whose real Sentinel-2 image conditions the ControlNet / starts img2img.
        controlnet_conditioning_scale: strength of the ControlNet, 0..2.
        state: region for the prompt (None when unknown).
        country: country for the prompt ("" = look it up offline from the point).
        word_mode: describe the climate in words rather than numbers.
        observed_climate: the climate the scenario starts from (NASA POWER's, or given by hand);
            with it, `climate` is derived (`scenario.apply(observed_climate, month)`) when left None.
        scenario: how `climate` differs from `observed_climate` (`Scenario.today()`: not at all).
            Kept beside both, so every output records observed, scenario and final climate.
        strength: img2img only: how much of the start image is redrawn, 0 (kept, through the VAE) to 1.
    """

    point: Point
    month: Month
    land_cover: str
    cloud_fraction: float = 0.0
    climate: ClimateValues | None = None
    seed: int = 0
    num_inference_steps: int = DEFAULT_STEPS
    guidance_scale: float = DEFAULT_GUIDANCE
    size_px: int = 512
    mode: str = "text"
    control_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    control_month: Month | None = None
    controlnet_conditioning_scale: float = 1.0
    state: str | None = None
    country: str = ""
    word_mode: bool = False
    observed_climate: ClimateValues | None = None
    scenario: Scenario = field(default_factory=Scenario)
    strength: float = DEFAULT_STRENGTH

    def __post_init__(self) -> None:
        if not isinstance(self.point, Point):
            raise BadRequestError(f"The point {self.point!r} is not a Point.", "Pass core.geo.Point(lat, lon).")
        object.__setattr__(self, "month", Month.parse(self.month))
        self._derive_climate()
        if self.land_cover not in LAND_COVER_CLASSES:
            raise BadRequestError(
                f"Unknown land cover {self.land_cover!r}.", f"Use one of: {', '.join(LAND_COVER_CLASSES)}."
            )
        cloud = _check_number("cloud fraction", self.cloud_fraction, 0.0, 1.0, "Give a cloud fraction from 0 to 1.")
        object.__setattr__(self, "cloud_fraction", round(cloud, 4))  # the precision a recipe records
        if self.climate is not None and not isinstance(self.climate, ClimateValues):
            raise BadRequestError(
                f"The climate {self.climate!r} is not a ClimateValues.",
                "Pass ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day) (it checks for NaN and ranges).",
            )
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
            raise BadRequestError(f"The seed {self.seed!r} is not a whole number from 0 to 2^63-1.", "Give e.g. 0.")
        object.__setattr__(self, "seed", int(self.seed))
        steps = self.num_inference_steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
            raise BadRequestError(
                f"The number of steps {steps!r} is not a whole number from 1 to {MAX_STEPS}.",
                f"Use at least 1 step (EcoMapper uses {DEFAULT_STEPS}).",
            )
        guidance = _check_number("guidance scale", self.guidance_scale, 0.0, 30.0, "Use a guidance scale 0..30 (7.5).")
        object.__setattr__(self, "guidance_scale", round(guidance, 3))
        size = self.size_px
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise BadRequestError(f"The size {size!r} is not a whole number of pixels.", "Use 512 or 1024.")
        if size % SIZE_MULTIPLE_PX or not MIN_SIZE_PX <= size <= MAX_SIZE_PX:
            raise BadRequestError(
                f"The size {size} px is not a multiple of {SIZE_MULTIPLE_PX} between {MIN_SIZE_PX} and {MAX_SIZE_PX}.",
                "Use 512 (the EcoMapper footprint) or 1024 (high resolution); SD3 needs multiples of 16.",
            )
        if self.mode not in MODES:
            raise BadRequestError(f"Unknown mode {self.mode!r}.", f"Use one of {', '.join(MODES)}.")
        if self.control_month is not None:
            object.__setattr__(self, "control_month", Month.parse(self.control_month))
        _check_number("strength", self.strength, 0.0, 1.0, "Use a strength from 0 (keep the image) to 1 (redraw it).")
        object.__setattr__(self, "strength", float(self.strength))
        if self.mode == "img2img":
            if self.control_image is not None:
                check_control_image(self.control_image, size, what="start image")
            if self.control_month is not None and self.control_month > self.month:
                raise BadRequestError(
                    f"The start month {self.control_month} is after the month to generate ({self.month}).",
                    "Start from the month itself or an earlier one.",
                )
        elif self.mode == "controlnet":
            if self.control_image is None and self.control_month is None:
                raise BadRequestError(
                    "ControlNet mode needs a control image or a control month.",
                    "Give --control-image PATH or --control-month YYYY-MM (an earlier month of the same place).",
                )
            if self.control_image is not None:
                check_control_image(self.control_image, size)
            if self.control_month is not None and self.control_month > self.month:
                raise BadRequestError(
                    f"The control month {self.control_month} is after the month to generate ({self.month}).",
                    "Condition on an earlier month (EcoMapper uses 1 to 6 months earlier).",
                )
        elif self.control_image is not None or self.control_month is not None:
            raise BadRequestError(
                "A control image or month was given in text-to-image mode.",
                "Use mode 'controlnet' or 'img2img', or leave them out.",
            )
        strength = _check_number(
            "ControlNet scale", self.controlnet_conditioning_scale, 0.0, 2.0, "Use a ControlNet scale from 0 to 2."
        )
        object.__setattr__(self, "controlnet_conditioning_scale", round(strength, 3))
        if self.state is not None and not isinstance(self.state, str):
            raise BadRequestError(f"The state {self.state!r} is not text.", "Give a region name or None.")
        if not isinstance(self.country, str):
            raise BadRequestError(f"The country {self.country!r} is not text.", "Give a country name.")

    def _derive_climate(self) -> None:
        """Fill or check `climate` from `observed_climate` and `scenario` (the final climate is never free).

        Climate values are kept at the precision outputs record (2 decimals): a recipe then holds
        exactly what made the image.
        """
        if isinstance(self.climate, ClimateValues):
            object.__setattr__(self, "climate", round_climate(self.climate))
        if not isinstance(self.scenario, Scenario):
            raise BadRequestError(
                f"The scenario {self.scenario!r} is not a Scenario.",
                "Pass core.climate.scenario.Scenario.of_change(...).",
            )
        if self.observed_climate is None:
            if not self.scenario.is_today:
                raise BadRequestError(
                    f"The scenario '{self.scenario.label}' has no observed climate to change.",
                    "Give the observed climate (observe the month, or give temperature, precipitation and radiation).",
                )
            return
        if not isinstance(self.observed_climate, ClimateValues):
            raise BadRequestError(
                f"The observed climate {self.observed_climate!r} is not a ClimateValues.",
                "Pass ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day).",
            )
        object.__setattr__(self, "observed_climate", round_climate(self.observed_climate))
        final = self.scenario.apply(self.observed_climate, self.month)
        if self.climate is None:
            object.__setattr__(self, "climate", final)
        elif self.climate != final:
            raise BadRequestError(
                f"The climate {self.climate} is not the observed climate under the scenario '{self.scenario.label}' "
                f"({final}).",
                "Leave climate out: it is derived from observed_climate and scenario.",
            )

    def prompt_inputs(self) -> PromptInputs:
        """The prompt inputs (needs `country`; see `with_place`)."""
        return PromptInputs(
            land_cover=self.land_cover,
            cloud_fraction=self.cloud_fraction,
            country=self.country,
            state=self.state,
            month=self.month,
            climate=self.climate,
        )

    def prompts(self) -> Prompts:
        return build_prompts(self.prompt_inputs(), word_mode=self.word_mode)

    def with_place(self, settings: Settings | None = None) -> GenerationRequest:
        """This request with state and country looked up when no country was given.

        With `settings`, from the admin-1 polygon containing the point (`core.sources.places`,
        nearest town when the boundaries cannot be had); without, from the nearest town.
        """
        if self.country.strip():
            return self
        from core.sources.places import reverse_geocode

        place = reverse_geocode(self.point, settings)
        return dataclasses.replace(self, state=self.state or place.state, country=place.country)

    def replace(self, **changes: Any) -> GenerationRequest:
        """A copy with `changes`; a derived climate is derived again when what it comes from changes."""
        derives_from = {"month", "observed_climate", "scenario"}
        rederive = "climate" not in changes and derives_from & set(changes)
        if rederive and changes.get("observed_climate", self.observed_climate) is not None:
            changes["climate"] = None
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class GenerationResult:
    """What came out: images (uint8 HxWx3), the prompts, seed, model, timings and the resolved request."""

    images: list[np.ndarray]
    prompts: Prompts
    seed: int
    model_id: str
    timings_s: dict[str, float]
    request: GenerationRequest
    control_image: np.ndarray | None = field(default=None, repr=False)
    model_info: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def image(self) -> np.ndarray:
        return self.images[0]


def _as_engine(engine: Any):
    from core.models.engine import Engine
    from core.models.loading import LoadedPipeline

    if isinstance(engine, Engine):
        return engine
    if isinstance(engine, LoadedPipeline):
        # A bare LoadedPipeline gets an engine (and its embedding cache) attached once.
        attached = getattr(engine, "_engine", None)
        if attached is None:
            attached = Engine(engine)
            engine._engine = attached
        return attached
    raise BadRequestError(f"{type(engine).__name__} is not a generation engine.", "Pass a core.models Engine.")


def fetch_control_image(
    point: Point, month: Month, size_px: int, settings: Settings, client: Any = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """The real Sentinel-2 image of `month` at `point`, resized to size_px, and the scene's metadata.

    The footprint is 512 px of 10 m; other output sizes resample it (Lanczos), so a 1024 px
    generation is conditioned on the same 5.12 km square.
    """
    from PIL import Image

    from core.sources.imagery import fetch_scene

    scene = fetch_scene(point, month, settings, client=client)
    image = scene.image
    if image.shape[:2] != (size_px, size_px):
        image = np.asarray(Image.fromarray(image).resize((size_px, size_px), Image.Resampling.LANCZOS))
    return image, scene.to_metadata()


def _resolve_control(request: GenerationRequest, settings: Settings) -> tuple[np.ndarray | None, dict[str, Any]]:
    if request.mode not in IMAGE_MODES:
        return None, {}
    if request.control_image is not None:
        return request.control_image, {"source": "user image"}
    # img2img without a start month starts from the real image of the month itself
    month = request.control_month or request.month
    image, meta = fetch_control_image(request.point, month, request.size_px, settings)
    return image, {"source": "sentinel-2", **meta}


def generate_images(
    request: GenerationRequest,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> GenerationResult:
    """Generate the image a request describes.

    Steps: 1. resolve the place names; 2. fetch the control image (ControlNet from a month);
    3. build the prompts; 4. run the engine.

    Args:
        request: what to generate.
        engine: a `core.models.engine.Engine` (or a `LoadedPipeline`), reused across requests.
        settings: for fetching the control scene.
        progress: `progress(step, total, message)` after each denoising step.
        cancel: set it to stop between steps (raises `CancelledError`).
    """
    eng = _as_engine(engine)
    started = time.perf_counter()
    request = request.with_place(settings)
    fetch_started = time.perf_counter()
    control, control_meta = _resolve_control(request, settings)
    if control is not None and request.control_image is None:
        request = request.replace(control_image=control)
    fetch_s = time.perf_counter() - fetch_started
    prompts = request.prompts()
    from core.models.engine import FrameJob

    images, timings = eng.run_frames(
        [FrameJob(prompts, request.seed, control)],
        mode=request.mode,
        size_px=request.size_px,
        num_inference_steps=request.num_inference_steps,
        guidance_scale=request.guidance_scale,
        controlnet_conditioning_scale=request.controlnet_conditioning_scale,
        strength=request.strength,
        progress=progress,
        cancel=cancel,
    )
    timings = {**timings, "fetch_s": fetch_s, "total_s": time.perf_counter() - started}
    info = {**eng.loaded.describe(), "control": control_meta} if control_meta else eng.loaded.describe()
    return GenerationResult(
        images=images,
        prompts=prompts,
        seed=request.seed,
        model_id=eng.model_id,
        timings_s=timings,
        request=request,
        control_image=control,
        model_info=info,
        warnings=eng.loaded.warnings,
    )


@dataclass(frozen=True)
class TimeSeriesRequest:
    """A run of months at one place.

    Args:
        base: the place, land cover, cloud, seed, steps, guidance, size, mode and place names;
            its `month` and `climate` are replaced per frame. In ControlNet mode its control image
            (or control month, default: the month before `start`) conditions the first frame.
        start, end: the months (inclusive).
        scenario: the change applied to each month's observed climate (`Scenario.today()` by default).
        temp_delta_c, precip_scale: the older way to say the same (a "change" scenario); give
            either these or `scenario`.
        climates: the observed climate per month; None fetches it from NASA POWER (core.sources.climate).
        chain: "independent" (frames share the seed, batched; a consistent look) or "controlnet"
            (frame 1 conditioned on the real image, each later frame on the frame before).
        batch_size: frames per pipeline call in independent mode; None (default) takes as many as
            fit in the device's free memory (`core.models.memory`). 1 keeps pixels identical to
            single-image runs; batched frames may differ from them by one 8-bit level at a few
            pixels (batched matrix products round differently).
    """

    base: GenerationRequest
    start: Month
    end: Month
    temp_delta_c: float = 0.0
    precip_scale: float = 1.0
    climates: tuple[tuple[Month, ClimateValues], ...] | None = None
    chain: str = "independent"
    batch_size: int | None = None
    scenario: Scenario | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", Month.parse(self.start))
        object.__setattr__(self, "end", Month.parse(self.end))
        months = month_range(self.start, self.end)
        if len(months) > 240:
            raise BadRequestError(f"{len(months)} months is too long a series.", "Ask for at most 240 months.")
        _check_number("temperature change", self.temp_delta_c, -30.0, 30.0, "Use a change from -30 to +30 °C.")
        _check_number("precipitation scale", self.precip_scale, 0.0, 10.0, "Use a scale from 0 to 10 (1 = same).")
        from_numbers = Scenario.of_change(self.temp_delta_c, (self.precip_scale - 1.0) * 100.0)
        if self.scenario is None:
            object.__setattr__(self, "scenario", from_numbers)
        elif not isinstance(self.scenario, Scenario):
            raise BadRequestError(f"The scenario {self.scenario!r} is not a Scenario.", "Pass a Scenario.")
        elif not from_numbers.is_today and self.scenario != from_numbers:
            raise BadRequestError(
                f"Both a scenario ('{self.scenario.label}') and a different temp_delta_c / precip_scale "
                f"('{from_numbers.label}') were given.",
                "Give the change once, as a Scenario.",
            )
        if self.chain not in SERIES_CHAINS:
            raise BadRequestError(f"Unknown chain {self.chain!r}.", f"Use one of {', '.join(SERIES_CHAINS)}.")
        if self.chain == "controlnet" and self.base.mode != "controlnet":
            object.__setattr__(self, "base", _as_controlnet(self.base, self.start))
        _check_batch_size(self.batch_size)
        if self.climates is not None:
            given = dict(self.climates)
            missing = [str(m) for m in months if m not in given]
            if missing:
                raise BadRequestError(
                    f"No climate given for {', '.join(missing)}.",
                    "Give the climate of every month, or None to fetch it.",
                )

    @property
    def months(self) -> list[Month]:
        return month_range(self.start, self.end)


def _check_batch_size(batch_size: object) -> None:
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 64:
        raise BadRequestError(f"The batch size {batch_size!r} is not 1..64.", "Use 1..64, or None for automatic.")


def _as_controlnet(base: GenerationRequest, start: Month) -> GenerationRequest:
    if base.control_image is not None:
        return base.replace(mode="controlnet", month=start)
    return base.replace(mode="controlnet", month=start, control_month=base.control_month or (start - 1))


@dataclass(frozen=True)
class TimeSeriesResult:
    """One frame per month: the months, their final (scenario) climates and the results.

    Each frame's request carries its observed climate and the scenario too.
    """

    months: list[Month]
    climates: list[ClimateValues]
    frames: list[GenerationResult]
    timings_s: dict[str, float]
    encode_calls: int
    scenario: Scenario = field(default_factory=Scenario)

    @property
    def observed_climates(self) -> list[ClimateValues | None]:
        return [frame.request.observed_climate for frame in self.frames]

    @property
    def images(self) -> list[np.ndarray]:
        return [frame.image for frame in self.frames]


def _frame_result(
    request: GenerationRequest, image: np.ndarray, control: np.ndarray | None, eng: Any, info: dict
) -> GenerationResult:
    """One frame of a series or grid as a result of its own (timings are kept for the whole run)."""
    return GenerationResult(
        images=[image],
        prompts=request.prompts(),
        seed=request.seed,
        model_id=eng.model_id,
        timings_s={},
        request=request.replace(control_image=control) if request.mode in IMAGE_MODES else request,
        control_image=control,
        model_info=info,
        warnings=eng.loaded.warnings,
    )


def observed_climates(point: Point, start: Month, end: Month, settings: Settings) -> dict[Month, ClimateValues]:
    """The NASA POWER climate of each month (through core.sources.climate), in one request."""
    from core.sources.climate import climate_for_month, fetch_climate

    dataset = fetch_climate(point, start, end, settings)
    return {month: climate_for_month(dataset, month) for month in month_range(start, end)}


def generate_time_series(
    series: TimeSeriesRequest,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> TimeSeriesResult:
    """Generate one frame per month with observed or modified climate.

    Each distinct prompt goes through the text encoders once (the engine caches embeddings), so
    a 12-month series costs 12 encodings (+1 for the empty negative prompt with guidance).
    """
    from core.models.engine import FrameJob

    eng = _as_engine(engine)
    started = time.perf_counter()
    encode_before = eng.encode_calls
    base = series.base.with_place(settings)
    months = series.months
    observed = (
        dict(series.climates)
        if series.climates is not None
        else observed_climates(base.point, months[0], months[-1], settings)
    )
    requests = [
        base.replace(month=m, observed_climate=observed[m], scenario=series.scenario, climate=None) for m in months
    ]
    climates = [r.climate for r in requests]
    for r in requests:
        log.debug("frame %s: %s", r.month, r.prompts().climate)
    steps = base.num_inference_steps
    total = len(months) * steps
    common = dict(
        size_px=base.size_px,
        num_inference_steps=steps,
        guidance_scale=base.guidance_scale,
        controlnet_conditioning_scale=base.controlnet_conditioning_scale,
        strength=base.strength,
        progress=progress,
        cancel=cancel,
        progress_total=total,
    )
    timings = {"encode_s": 0.0, "denoise_s": 0.0, "fetch_s": 0.0}
    frames_images: list[np.ndarray] = []
    controls: list[np.ndarray | None] = []
    if series.chain == "independent":
        mode = base.mode
        control = None
        if mode in IMAGE_MODES:
            fetch_started = time.perf_counter()
            control, _ = _resolve_control(base, settings)
            timings["fetch_s"] += time.perf_counter() - fetch_started
        jobs = [FrameJob(r.prompts(), r.seed, control) for r in requests]
        frames_images, run_timings = eng.run_frames(jobs, mode=mode, batch_size=series.batch_size, **common)
        controls = [control] * len(jobs)
        for key, value in run_timings.items():
            timings[key] = timings.get(key, 0.0) + value
    else:
        fetch_started = time.perf_counter()
        control, _ = _resolve_control(base, settings)
        timings["fetch_s"] += time.perf_counter() - fetch_started
        for index, r in enumerate(requests):
            images, run_timings = eng.run_frames(
                [FrameJob(r.prompts(), r.seed, control)], mode="controlnet", progress_offset=index * steps, **common
            )
            frames_images.append(images[0])
            controls.append(control)
            control = images[0]  # the next month grows out of this one
            for key, value in run_timings.items():
                timings[key] = timings.get(key, 0.0) + value
    timings["total_s"] = time.perf_counter() - started
    info = eng.loaded.describe()
    frames = [
        _frame_result(r, image, ctrl, eng, info)
        for r, image, ctrl in zip(requests, frames_images, controls, strict=True)
    ]
    return TimeSeriesResult(
        months=months,
        climates=climates,
        frames=frames,
        timings_s=timings,
        encode_calls=eng.encode_calls - encode_before,
        scenario=series.scenario,
    )


@dataclass(frozen=True)
class ScenarioGridRequest:
    """Temperature x precipitation changes around one month's climate (rows: temperature, columns: precipitation).

    Args:
        base: the month and its observed climate (required) and everything else; mode "text"
            or "controlnet" (all cells share the control image).
        temp_deltas_c: warming steps, e.g. (-2, 0, 2, 4).
        precip_scales: precipitation factors, e.g. (0.5, 1.0, 1.5).
        batch_size: cells per pipeline call (text and ControlNet mode); None: as many as fit in memory.
    """

    base: GenerationRequest
    temp_deltas_c: tuple[float, ...] = (-2.0, 0.0, 2.0)
    precip_scales: tuple[float, ...] = (0.5, 1.0, 1.5)
    batch_size: int | None = None

    def __post_init__(self) -> None:
        _check_batch_size(self.batch_size)
        if self.base.climate is None:
            raise BadRequestError(
                "A scenario grid needs the month's climate to change.", "Give the observed climate of the month."
            )
        for name, values in (("temperature changes", self.temp_deltas_c), ("precipitation scales", self.precip_scales)):
            if not values or len(values) > 10:
                raise BadRequestError(f"Give 1 to 10 {name} (got {len(values)}).", "For example 3 values each.")
        object.__setattr__(self, "temp_deltas_c", tuple(float(v) for v in self.temp_deltas_c))
        object.__setattr__(self, "precip_scales", tuple(float(v) for v in self.precip_scales))
        for delta in self.temp_deltas_c:
            _check_number("temperature change", delta, -30.0, 30.0, "Use changes from -30 to +30 °C.")
        for scale in self.precip_scales:
            _check_number("precipitation scale", scale, 0.0, 10.0, "Use scales from 0 to 10 (1 = same).")
        # every cell must be physically possible (ClimateValues checks the ranges)
        for row in self.scenarios:
            for scenario in row:
                scenario.apply(self.observed, self.base.month)

    @property
    def observed(self) -> ClimateValues:
        """The climate the grid varies: the base's observed climate, else its climate."""
        return self.base.observed_climate or self.base.climate

    @property
    def scenarios(self) -> list[list[Scenario]]:
        """[temperature row][precipitation column] scenarios."""
        return [
            [Scenario.of_change(delta, (scale - 1.0) * 100.0) for scale in self.precip_scales]
            for delta in self.temp_deltas_c
        ]

    @property
    def row_labels(self) -> list[str]:
        """Header of each row: '+2 °C', '±0 °C'."""
        return [Scenario.of_change(delta).change.label() or "±0 °C" for delta in self.temp_deltas_c]

    @property
    def column_labels(self) -> list[str]:
        """Header of each column: '−50 % rain', '±0 % rain'."""
        return [
            Scenario.of_change(0.0, (scale - 1.0) * 100.0).change.label() or "±0 % rain" for scale in self.precip_scales
        ]


@dataclass(frozen=True)
class ScenarioGridResult:
    temp_deltas_c: tuple[float, ...]
    precip_scales: tuple[float, ...]
    cells: list[list[GenerationResult]]  # [temperature row][precipitation column]
    timings_s: dict[str, float]
    encode_calls: int
    row_labels: tuple[str, ...] = ()
    column_labels: tuple[str, ...] = ()


def generate_scenario_grid(
    grid: ScenarioGridRequest,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScenarioGridResult:
    """One image per (temperature change, precipitation scale), all from the same seed."""
    from core.models.engine import FrameJob

    eng = _as_engine(engine)
    started = time.perf_counter()
    encode_before = eng.encode_calls
    base = grid.base.with_place(settings)
    control, _ = _resolve_control(base, settings)
    observed = grid.observed
    requests = [
        [base.replace(observed_climate=observed, scenario=scenario, climate=None) for scenario in row]
        for row in grid.scenarios
    ]
    flat: Sequence[GenerationRequest] = [r for row in requests for r in row]
    images, timings = eng.run_frames(
        [FrameJob(r.prompts(), r.seed, control) for r in flat],
        mode=base.mode,
        size_px=base.size_px,
        num_inference_steps=base.num_inference_steps,
        guidance_scale=base.guidance_scale,
        controlnet_conditioning_scale=base.controlnet_conditioning_scale,
        strength=base.strength,
        batch_size=grid.batch_size,
        progress=progress,
        cancel=cancel,
    )
    info = eng.loaded.describe()
    results = iter(_frame_result(r, image, control, eng, info) for r, image in zip(flat, images, strict=True))
    cells = [[next(results) for _ in grid.precip_scales] for _ in grid.temp_deltas_c]
    return ScenarioGridResult(
        temp_deltas_c=grid.temp_deltas_c,
        precip_scales=grid.precip_scales,
        cells=cells,
        timings_s={**timings, "total_s": time.perf_counter() - started},
        encode_calls=eng.encode_calls - encode_before,
        row_labels=tuple(grid.row_labels),
        column_labels=tuple(grid.column_labels),
    )
