"""Running a `Region`: its tiles' requests (place names, majority land cover), the real Sentinel-2 mosaic of
the area (control / source images cut from it), and the generator over the canvas through the tiler.

SD3 runs both methods (`core.models.region_sampler`); a peer generator runs MetaEarth's way, each tile
its own call with the same seed (its noise is drawn from the seed: the same initial noise per tile).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.generation.compositions import Region
from core.generation.prompts import Prompts
from core.generation.request import IMAGE_MODES, GenerationRequest
from core.generation.runs import (
    ProgressCallback,
    _as_engine,
    fetch_control_image,
    generate_images,
    peer_generator,
    with_generator_defaults,
)
from core.generation.tiling import METHOD_NAMES, METHOD_PROFILE, compose_tiles, crop
from core.geo import Month

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RealMosaic:
    """The real Sentinel-2 image of the area in a month: one least-cloudy scene per tile, centres kept."""

    image: np.ndarray = field(repr=False)
    month: Month
    scene_ids: tuple[str, ...]
    cloud_fraction: float  # mean over the tiles


@dataclass(frozen=True)
class RegionRunResult:
    """The canvas image and what made it: the region, the tiles' requests and prompts, the real mosaic."""

    region: Region
    image: np.ndarray = field(repr=False)
    tiles: tuple[GenerationRequest, ...]
    prompts: tuple[Prompts, ...]
    model_id: str
    timings_s: dict[str, float]
    model_info: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    control: RealMosaic | None = None  # the mosaic the control / source images were cut from


def real_mosaic(region: Region, month: Month, settings: Settings) -> RealMosaic:
    """The area's real image: each tile's least-cloudy scene of `month` (at the tile size), joined by centre crops
    so a seam between two scenes falls on a tile border, never inside a tile.

    Raises:
        NoImageryError / UpstreamError: a tile has no usable scene (names the month and the tile's point).
    """
    windows = region.windows()
    images, ids, clouds = [], [], []
    for window in windows:
        image, meta = fetch_control_image(region.tile_point(window), month, region.tile_px, settings)
        images.append(image)
        ids.append(meta.get("scene_id", ""))
        clouds.append(float(meta.get("cloud_fraction", 0.0)))
    joined = compose_tiles(images, windows, region.height_px, region.width_px, METHOD_PROFILE["metaearth"])
    return RealMosaic(joined, month, tuple(dict.fromkeys(ids)), float(np.mean(clouds)))


def resolve_tiles(region: Region, settings: Settings) -> list[GenerationRequest]:
    """Each tile's request: its point, and (per_tile) its own place names and majority land cover."""
    from core.sources.landcover import lookup_land_cover

    tiles = []
    for request in region.tile_requests():
        if region.per_tile:
            request = request.replace(state=None, country="")
            try:
                found = lookup_land_cover(request.point, settings).land_cover
            except EcoMapperError as err:
                log.warning("land cover of tile %s: %s; using the centre's", request.point.label(), err.problem)
                found = None
            if found:
                request = request.replace(land_cover=found)
        tiles.append(request.with_place(settings))
    return tiles


def _control_tiles(region: Region, tiles: list[GenerationRequest], settings: Settings):
    """The control / source image of every tile, cut from the real mosaic of the control month (None: text)."""
    base = region.base
    if base.mode not in IMAGE_MODES:
        return None, [None] * len(tiles)
    if base.control_image is not None:
        raise BadRequestError(
            "A region cuts its control images from the real mosaic; a single control image cannot cover it.",
            "Give a control month (--control-month) instead of a control image.",
        )
    month = base.control_month or base.month
    mosaic = real_mosaic(region, month, settings)
    return mosaic, [crop(mosaic.image, window) for window in region.windows()]


def generate_region(
    region: Region,
    engine: Any,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    scheduler: str = "",
) -> RegionRunResult:
    """Generate the region's canvas: 1. tiles' requests; 2. control crops from the real mosaic; 3. the tiler.

    `scheduler` (`tcp://host:8786` / `local:N`): MetaEarth tiles made by a dask cluster's workers
    (`core.generation.region_cluster`); `engine` may then be None (the driver loads no model).
    """
    started = time.perf_counter()
    if scheduler:
        from core.generation.region_cluster import check_cluster_region

        check_cluster_region(region)
    # on a cluster the spec names the defaults (its model id), as the engine would here
    defaults_of = engine if engine is not None else region.base.model
    region = Region(with_generator_defaults(region.base, defaults_of), region.width_km, region.height_km,
                    region.method, region.per_tile)  # fmt: skip
    peer = peer_generator(engine)
    if peer is not None and region.method != "metaearth":  # refused before any look-up
        raise BadRequestError(
            f"{peer.backend_id} runs regions tile by tile (MetaEarth): it gives no per-step access for "
            f"{METHOD_NAMES[region.method]}.",
            f"Use --method metaearth with this generator, or an SD3 model for {region.method}.",
        )
    tiles = resolve_tiles(region, settings)
    mosaic, controls = _control_tiles(region, tiles, settings)
    fetch_s = time.perf_counter() - started
    if peer is not None:
        image, timings, info, warnings = _peer_region(region, tiles, peer, settings, progress, cancel)
        model_id = peer.backend_id
    else:
        image, timings, info, warnings, model_id = _sd3_region(
            region, tiles, controls, engine, progress, cancel, scheduler, settings
        )
    return RegionRunResult(
        region=region, image=image, tiles=tuple(tiles), prompts=tuple(t.prompts() for t in tiles), model_id=model_id,
        timings_s={**timings, "fetch_s": fetch_s, "total_s": time.perf_counter() - started}, model_info=info,
        warnings=warnings, control=mosaic,
    )  # fmt: skip


def _sd3_region(region, tiles, controls, engine, progress, cancel, scheduler="", settings=None):
    from core.models.engine import FrameJob
    from core.models.flow_edit import EDIT_MODES
    from core.models.region_sampler import RegionCanvas, run_region

    base = region.base
    jobs = [
        FrameJob(tile.prompts(), base.seed, control, source_prompts=tile.source_prompts() if base.mode in EDIT_MODES
                 else None)
        for tile, control in zip(tiles, controls, strict=True)
    ]  # fmt: skip
    canvas = RegionCanvas(region.height_px, region.width_px, tuple(region.windows()), region.tile_px)
    sampling = dict(
        mode=base.mode, seed=base.seed, num_inference_steps=base.num_inference_steps,
        guidance_scale=base.guidance_scale, controlnet_conditioning_scale=base.controlnet_conditioning_scale,
        strength=base.strength, edit_options=base.edit,
    )  # fmt: skip
    if scheduler:
        from core.generation.region_cluster import region_on_cluster

        return region_on_cluster(base.model, settings, jobs, canvas, sampling, scheduler, progress, cancel)
    eng = _as_engine(engine)
    image, timings = run_region(eng, jobs, canvas, method=region.method, progress=progress, cancel=cancel, **sampling)
    return image, timings, eng.loaded.describe(), tuple(eng.loaded.warnings), eng.model_id


def _peer_region(region, tiles, peer, settings, progress, cancel):
    """MetaEarth's way on a peer generator: every tile its own call (same seed), centre crops kept."""
    from PIL import Image

    steps = region.base.num_inference_steps or 1
    images, timings, warnings, info = [], {}, (), {}
    for index, tile in enumerate(tiles):

        def tile_progress(done, _total, message, index=index):
            if progress is not None:
                progress(
                    index * steps + min(done, steps), len(tiles) * steps, f"tile {index + 1} of {len(tiles)}: {message}"
                )

        made = generate_images(tile, peer, settings, progress=tile_progress, cancel=cancel)
        image = made.image
        if image.shape[:2] != (region.tile_px, region.tile_px):
            image = np.asarray(
                Image.fromarray(image).resize((region.tile_px, region.tile_px), Image.Resampling.LANCZOS)
            )
        images.append(image)
        warnings, info = made.warnings, made.model_info
        for key, value in made.timings_s.items():
            timings[key] = timings.get(key, 0.0) + value
    image = compose_tiles(images, region.windows(), region.height_px, region.width_px, METHOD_PROFILE["metaearth"])
    return image, {**timings, "tile_calls": float(len(tiles) * steps)}, info, warnings
