"""A time-lapse: one generated frame per month under a scenario, captioned and written as a GIF or MP4.

Captions name the month, the final climate, "AI-generated" (and "noise" for the tiny model), the
place and the scenario. The real image of each month (for "real | generated") comes from one
builder, `real_frames`, used by the CLI and the app alike.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.export.provenance import Provenance
from core.export.timelapse import FORMATS, frame_caption, write_timelapse
from core.generation.compositions import SERIES_CHAINS, TimelapseRequest
from core.generation.runs import ProgressCallback, TimeSeriesResult, fetch_control_image, generate_time_series
from core.geo import Month, Point
from core.io.safe_names import safe_name
from core.services.generate import check_runnable
from core.services.models import check_engine_matches, load_engine

log = logging.getLogger(__name__)

__all__ = ["FORMATS", "SERIES_CHAINS", "TimelapseRequest", "TimelapseResult", "make_timelapse", "real_frames"]


@dataclass(frozen=True)
class TimelapseResult:
    """The written animation and what is in it (one provenance and caption per frame)."""

    path: Path
    series: TimeSeriesResult
    captions: list[str]
    provenances: list[Provenance]
    reals: list[np.ndarray | None] | None = field(default=None, repr=False)
    real_problems: dict[str, str] = field(default_factory=dict)
    frames_dir: Path | None = None

    @property
    def months(self) -> list[Month]:
        return self.series.months

    @property
    def images(self) -> list[np.ndarray]:
        return self.series.images


def real_frames(
    point: Point, months: list[Month], size_px: int, settings: Settings, progress: ProgressCallback | None = None
) -> tuple[list[np.ndarray | None], dict[str, str]]:
    """The real image of each month at `size_px` (None where the month has none) and why it has none."""
    images: list[np.ndarray | None] = []
    problems: dict[str, str] = {}
    for index, month in enumerate(months):
        if progress is not None:
            progress(index, len(months), f"Fetching the real image of {month}")
        try:
            images.append(fetch_control_image(point, month, size_px, settings)[0])
        except EcoMapperError as err:
            log.warning("no real image for %s: %s", month, err)
            problems[str(month)] = str(err)
            images.append(None)
    return images, problems


NO_IMAGE_GREY = (96, 96, 96)


def no_image_panel(shape: tuple[int, ...], month: Month) -> np.ndarray:
    """What stands in for a month without a real image beside its frame: grey, saying so (not black,
    which reads as a real image of a dark place)."""
    from PIL import Image, ImageDraw

    from core.export.timelapse import caption_font

    height, width = shape[0], shape[1]
    panel = Image.new("RGB", (width, height), NO_IMAGE_GREY)
    draw = ImageDraw.Draw(panel)
    font = caption_font(max(10, min(28, width // 16)))
    for index, text in enumerate(("No Sentinel-2 image", str(month))):
        text_width = draw.textlength(text, font=font)
        y = height / 2 + (index - 1) * font.size * 1.4
        draw.text(((width - text_width) / 2, y), text, font=font, fill=(235, 235, 235))
    return np.asarray(panel)


def make_timelapse(
    request: TimelapseRequest,
    out: str | os.PathLike,
    settings: Settings,
    *,
    engine: Any = None,
    frames_dir: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> TimelapseResult:
    """Generate every month and write the captioned GIF / MP4 (chosen by the suffix of `out`).

    Args:
        request: what to animate.
        out: the .gif or .mp4 to write.
        settings: endpoints, checkpoints.
        engine: an engine for `request.base.model` (loaded if None).
        frames_dir: also write every frame as a PNG with its metadata here (`YYYY-MM.png`).
        progress, cancel: as in `generate` (progress counts every step of every frame).
    """
    from core.services.exports import export_image

    target = Path(out)
    if target.suffix.lower() not in FORMATS:
        raise BadRequestError(f"{target.name!r} is neither .gif nor .mp4.", "Name the output *.gif or *.mp4.")
    check_runnable(request.base)
    reals, problems = (None, {})
    if request.side_by_side:  # before the model loads: a failure here costs no generation
        reals, problems = real_frames(request.base.point, request.months, request.base.size_px, settings)
    engine = engine or load_engine(request.base.model, settings)
    check_engine_matches(engine, request.base.model)
    series = generate_time_series(request, engine, settings, progress=progress, cancel=cancel)
    provenances = [Provenance.of(frame) for frame in series.frames]
    captions = [frame_caption(p) for p in provenances]
    beside = None
    if reals is not None:
        beside = [
            real if real is not None else no_image_panel(image.shape, month)
            for real, image, month in zip(reals, series.images, request.months, strict=True)
        ]
    path = write_timelapse(series.images, captions, target, fps=request.fps, side_by_side=beside)
    written_frames = None
    if frames_dir is not None:
        written_frames = Path(frames_dir)
        for frame in series.frames:
            export_image(frame, written_frames / f"{safe_name(str(frame.request.month), 'frame name')}.png")
    return TimelapseResult(path, series, captions, provenances, reals, problems, written_frames)
