"""Running requests: one image, a time series, a scenario grid, on any generator.

A `GenerationRequest` goes to whatever its model loaded as: the SD3 engine (`core.models.engine.Engine`,
text embeddings cached and frames batched) or a peer generator (`core.models.backends.Backend`:
DiffusionSat, GeoSynth, map-sat, Text2Earth), one frame at a time. Either way the result is a
`GenerationResult` carrying the request that made it. Real context comes from the data layer: the
control image from `core.sources.imagery.fetch_scene`, the observed climate from `core.sources.climate`,
the place names from `core.sources.places`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, NoImageryError
from core.generation.compositions import GridRequest, TimelapseRequest
from core.generation.progress import ProgressCallback
from core.generation.prompts import Prompts
from core.generation.request import DEFAULT_GUIDANCE, DEFAULT_STEPS, IMAGE_MODES, GenerationRequest
from core.geo import Month, Point, month_range
from core.models.backends.base import Backend, Bands
from core.models.backends.registry import ALL_BACKENDS
from core.models.flow_edit import EDIT_MODES

log = logging.getLogger(__name__)

# Edit / invert: a month without a usable scene is edited from the nearest earlier one, at most this many
# months back (EcoMapper's control images are 1 to 6 months earlier).
SOURCE_LOOKBACK_MONTHS = 6


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
    bands: Bands | None = field(default=None, repr=False)  # extra bands (multispectral generators)

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
    if request.mode in EDIT_MODES:
        return _source_scene(request, settings)
    # img2img without a start month starts from the real image of the month itself
    month = request.control_month or request.month
    image, meta = fetch_control_image(request.point, month, request.size_px, settings)
    return image, {"source": "sentinel-2", **meta}


def _source_scene(request: GenerationRequest, settings: Settings) -> tuple[np.ndarray, dict[str, Any]]:
    """Edit / invert: the real scene of the month, or of the nearest earlier month with one (a warning says so)."""
    wanted = request.control_month or request.month
    first_problem = None
    for back in range(SOURCE_LOOKBACK_MONTHS + 1):
        try:
            image, meta = fetch_control_image(request.point, wanted - back, request.size_px, settings)
        except NoImageryError as err:
            first_problem = first_problem or err
            continue
        meta = {"source": "sentinel-2", "source_month": str(wanted - back), **meta}
        if back:
            meta["warning"] = (f"No usable scene of {wanted} ({first_problem.problem}); edited the real image of "
                               f"{wanted - back}, {back} month(s) earlier.")  # fmt: skip
        return image, meta
    raise NoImageryError(
        f"No usable scene of {wanted} or the {SOURCE_LOOKBACK_MONTHS} months before it: {first_problem.problem}",
        "Pick another month, give a source image (--control-image), or use text-to-image.",
    ) from first_problem


def _source_month(request: GenerationRequest, meta: dict[str, Any]) -> GenerationRequest:
    """Edit / invert from an earlier month's scene: the request records that month as its control month."""
    used = meta.get("source_month")
    return request.replace(control_month=Month.parse(used)) if used and used != str(request.month) else request


def _job(request: GenerationRequest, control: np.ndarray | None):
    """The engine's job for a request: edit / invert also carry the caption of the source (observed climate)."""
    from core.models.engine import FrameJob

    source = request.source_prompts() if request.mode in EDIT_MODES else None
    return FrameJob(request.prompts(), request.seed, control, source_prompts=source)


def generate_images(
    request: GenerationRequest,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> GenerationResult:
    """Generate the image a request describes, on the SD3 engine or a peer generator.

    Args:
        request: what to generate.
        engine: what `request.model` loaded as: a `core.models.engine.Engine` (or a `LoadedPipeline`)
            reused across requests, or a peer `Backend`.
        settings: for fetching the control scene.
        progress: `progress(step, total, message)` after each denoising step.
        cancel: set it to stop between steps (raises `CancelledError`).
    """
    request = with_generator_defaults(request, engine)
    peer = peer_generator(engine)
    if peer is not None:
        return _generate_with_peer(request, peer, settings, progress, cancel)
    # The SD3 engine: 1. place names; 2. the control image (ControlNet / img2img from a month);
    # 3. the prompts; 4. the engine run.
    eng = _as_engine(engine)
    started = time.perf_counter()
    request = request.with_place(settings)
    fetch_started = time.perf_counter()
    control, control_meta = _resolve_control(request, settings)
    if control is not None and request.control_image is None:
        request = _source_month(request, control_meta).replace(control_image=control)
    fetch_s = time.perf_counter() - fetch_started
    prompts = request.prompts()
    images, timings = eng.run_frames(
        [_job(request, control)],
        mode=request.mode,
        **_sampling(request),
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
        warnings=eng.loaded.warnings + ((control_meta["warning"],) if "warning" in control_meta else ()),
    )


def with_generator_defaults(request: GenerationRequest, engine: Any) -> GenerationRequest:
    """Steps and guidance left None take the generator's own defaults (its registry entry; SD3: EcoMapper's)."""
    info = getattr(engine, "info", None) or ALL_BACKENDS.get(getattr(engine, "model_id", None))
    steps = getattr(info, "default_steps", DEFAULT_STEPS)
    guidance = getattr(info, "default_guidance", DEFAULT_GUIDANCE)
    return request.with_sampling_defaults(steps, guidance)


def peer_generator(engine: Any) -> Backend | None:
    """`engine` when it is a peer generator (not the SD3 engine), else None."""
    return engine if isinstance(engine, Backend) else None


def _generate_with_peer(
    request: GenerationRequest,
    backend: Backend,
    settings: Settings,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> GenerationResult:
    """One image from a peer generator: its own conditioning (metadata, layout, resolution prefix) from the request."""
    if request.mode != "text" and not (request.mode == "img2img" and backend.uses.source_bands):
        raise BadRequestError(
            f"{backend.backend_id} cannot do mode '{request.mode}': it draws from its own conditioning.",
            "Use mode text with this generator, or an SD3 model for ControlNet / img2img / edit / invert.",
        )
    started = time.perf_counter()
    request = request.with_place(settings)
    if request.mode == "img2img":
        request = _with_source_bands(request, backend, settings)
    canny = backend.uses.control == "canny" and request.layout in (None, "canny")
    if (canny or backend.uses.reference) and request.reference_image is None:
        # Canny layouts are the edges of the real image of the month; ZoomLDM reads its DINOv2 features
        request = request.replace(reference_image=fetch_control_image(request.point, request.month, request.size_px,
                                                                      settings)[0])  # fmt: skip
    made = backend.generate(request, progress=progress, cancel=cancel)
    info = {
        "model_id": backend.backend_id,
        "family": getattr(getattr(backend, "info", None), "family", ""),
        "is_tiny": bool(getattr(getattr(backend, "info", None), "is_tiny", False)),
        "conditioning": made.conditioning,
        "ignored": list(made.ignored),
    }
    warnings = made.warnings
    if {"climate", "scenario"} & set(made.ignored):
        warnings += (f"{backend.backend_id} does not read the climate: a scenario does not change its image.",)
    return GenerationResult(
        images=[made.image],
        prompts=Prompts(spatial=made.prompt, climate=made.prompt if backend.uses.climate else ""),
        seed=request.seed,
        model_id=backend.backend_id,
        timings_s={**made.timings_s, "total_s": time.perf_counter() - started},
        request=request,
        control_image=made.control_image,
        model_info=info,
        warnings=warnings,
        bands=made.bands,
    )


def _with_source_bands(request: GenerationRequest, backend: Backend, settings: Settings) -> GenerationRequest:
    """img2img on a multispectral generator starts from the real scene's reflectance bands, read here."""
    if request.control_image is not None:
        raise BadRequestError(
            f"{backend.backend_id} img2img starts from the real scene's B04/B03/B02/B08 bands, not an RGB image.",
            "Leave out the start image; give --control-month YYYY-MM to start from another month's scene.",
        )
    if request.source_bands is not None:
        return request
    from core.sources.imagery import fetch_scene_bands

    return request.replace(source_bands=fetch_scene_bands(request.point, request.control_month or request.month,
                                                          settings))  # fmt: skip


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


def _frames_with_peer(
    requests: Sequence[GenerationRequest],
    backend: Backend,
    settings: Settings,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> list[GenerationResult]:
    """A peer generator makes frames one at a time; progress counts every step of every frame."""
    total = sum(r.num_inference_steps for r in requests)
    results: list[GenerationResult] = []
    done = 0
    for request in requests:

        def frame_progress(step: int, _total: int, message: str, offset: int = done) -> None:
            if progress is not None:
                progress(offset + step, total, message)

        results.append(_generate_with_peer(request, backend, settings, frame_progress, cancel))
        done += request.num_inference_steps
    return results


def _sampling(request: GenerationRequest) -> dict[str, Any]:
    """What the engine samples with, as `Engine.run_frames` names it (the same for every frame of a run)."""
    return {
        "size_px": request.size_px,
        "num_inference_steps": request.num_inference_steps,
        "guidance_scale": request.guidance_scale,
        "controlnet_conditioning_scale": request.controlnet_conditioning_scale,
        "strength": request.strength,
        "edit_options": request.edit,
    }


def _frame_result(
    request: GenerationRequest, image: np.ndarray, control: np.ndarray | None, eng: Any, info: dict,
    warning: str | None = None,
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
        warnings=eng.loaded.warnings + ((warning,) if warning else ()),
    )


def observed_climates(point: Point, start: Month, end: Month, settings: Settings) -> dict[Month, ClimateValues]:
    """The NASA POWER climate of each month (through core.sources.climate), in one request."""
    from core.sources.climate import climate_for_month, fetch_climate

    dataset = fetch_climate(point, start, end, settings)
    return {month: climate_for_month(dataset, month) for month in month_range(start, end)}


def _series_controls(
    base: GenerationRequest, requests: Sequence[GenerationRequest], settings: Settings
) -> tuple[list[GenerationRequest], list[np.ndarray | None], list[str | None]]:
    """Each frame's request, image and warning: edit / invert edit each month's own scene (or the nearest earlier
    one, which the frame's request then records as its control month); other image modes share the base's."""
    if base.mode in EDIT_MODES and base.control_image is None:
        resolved = [_resolve_control(r, settings) for r in requests]
        return ([_source_month(r, meta) for r, (_, meta) in zip(requests, resolved, strict=True)],
                [image for image, _ in resolved], [meta.get("warning") for _, meta in resolved])  # fmt: skip
    control = _resolve_control(base, settings)[0] if base.mode in IMAGE_MODES else None
    return list(requests), [control] * len(requests), [None] * len(requests)


def generate_time_series(
    series: TimelapseRequest,
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

    started = time.perf_counter()
    base = with_generator_defaults(series.base, engine).with_place(settings)
    months = series.months
    observed = (
        dict(series.climates)
        if series.climates is not None
        else observed_climates(base.point, months[0], months[-1], settings)
    )
    requests = TimelapseRequest(**{**series.__dict__, "base": base}).frame_requests(observed)
    climates = [r.climate for r in requests]
    peer = peer_generator(engine)
    if peer is not None:
        if series.chain != "independent":
            raise BadRequestError(
                f"{peer.backend_id} cannot chain frames through a ControlNet.", "Use the independent chain."
            )
        frames = _frames_with_peer(requests, peer, settings, progress, cancel)
        return TimeSeriesResult(months, climates, frames, {"total_s": time.perf_counter() - started}, 0,
                                series.scenario)  # fmt: skip
    eng = _as_engine(engine)
    encode_before = eng.encode_calls
    for r in requests:
        log.debug("frame %s: %s", r.month, r.prompts().climate)
    steps = base.num_inference_steps
    total = len(months) * steps
    common = dict(
        **_sampling(base),
        progress=progress,
        cancel=cancel,
        progress_total=total,
    )
    timings = {"encode_s": 0.0, "denoise_s": 0.0, "fetch_s": 0.0}
    frames_images: list[np.ndarray] = []
    controls: list[np.ndarray | None] = []
    warnings: list[str | None] = [None] * len(requests)
    if series.chain == "independent":
        fetch_started = time.perf_counter()
        requests, controls, warnings = _series_controls(base, requests, settings)
        timings["fetch_s"] += time.perf_counter() - fetch_started
        jobs = [_job(r, control) for r, control in zip(requests, controls, strict=True)]
        frames_images, run_timings = eng.run_frames(jobs, mode=base.mode, batch_size=series.batch_size, **common)
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
        _frame_result(r, image, ctrl, eng, info, warning)
        for r, image, ctrl, warning in zip(requests, frames_images, controls, warnings, strict=True)
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
class ScenarioGridResult:
    temp_deltas_c: tuple[float, ...]
    precip_changes_pct: tuple[float, ...]
    cells: list[list[GenerationResult]]  # [temperature row][precipitation column]
    timings_s: dict[str, float]
    encode_calls: int
    row_labels: tuple[str, ...] = ()
    column_labels: tuple[str, ...] = ()


def generate_scenario_grid(
    grid: GridRequest,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScenarioGridResult:
    """One image per (temperature change, precipitation scale), all from the same seed."""
    started = time.perf_counter()
    placed = GridRequest(**{**grid.__dict__, "base": with_generator_defaults(grid.base, engine).with_place(settings)})
    base = placed.base
    flat: Sequence[GenerationRequest] = [r for row in placed.cell_requests() for r in row]
    peer = peer_generator(engine)
    if peer is not None:
        results = iter(_frames_with_peer(flat, peer, settings, progress, cancel))
        cells = [[next(results) for _ in grid.precip_changes_pct] for _ in grid.temp_deltas_c]
        return ScenarioGridResult(grid.temp_deltas_c, grid.precip_changes_pct, cells,
                                  {"total_s": time.perf_counter() - started}, 0, tuple(grid.row_labels),
                                  tuple(grid.column_labels))  # fmt: skip
    eng = _as_engine(engine)
    encode_before = eng.encode_calls
    # edit / invert: a month without a usable scene edits the nearest earlier one; every cell records it and says so
    control, control_meta = _resolve_control(base, settings)
    flat = [_source_month(r, control_meta) for r in flat]
    warning = control_meta.get("warning")
    images, timings = eng.run_frames(
        [_job(r, control) for r in flat],
        mode=base.mode,
        **_sampling(base),
        batch_size=grid.batch_size,
        progress=progress,
        cancel=cancel,
    )
    info = eng.loaded.describe()
    results = iter(
        _frame_result(r, image, control, eng, info, warning) for r, image in zip(flat, images, strict=True)
    )
    cells = [[next(results) for _ in grid.precip_changes_pct] for _ in grid.temp_deltas_c]
    return ScenarioGridResult(
        temp_deltas_c=grid.temp_deltas_c,
        precip_changes_pct=grid.precip_changes_pct,
        cells=cells,
        timings_s={**timings, "total_s": time.perf_counter() - started},
        encode_calls=eng.encode_calls - encode_before,
        row_labels=tuple(grid.row_labels),
        column_labels=tuple(grid.column_labels),
    )
