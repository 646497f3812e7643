"""Time-lapse GIF / MP4 of generated frames, each captioned with its date and climate.

Captions go in a band below the image (the image itself is not covered), drawn with PIL in
DejaVu Sans, the font matplotlib ships, so the output looks the same on every machine. MP4 is
H.264 through imageio-ffmpeg's bundled ffmpeg; GIF through Pillow. Files are written to a
temporary sibling and renamed, so a failed write leaves nothing behind.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.climate.values import ClimateValues
from core.errors import BadRequestError, EcoMapperError
from core.export.provenance import Provenance, image_label
from core.generation.prompts import MONTH_NAMES
from core.geo import Month
from core.io.files import atomic_output

log = logging.getLogger(__name__)

FORMATS = (".gif", ".mp4")
# H.264 encoders want dimensions divisible by 16 (else imageio-ffmpeg rescales the video).
MACRO_BLOCK_PX = 16
BAND_COLOUR = (16, 16, 16)
TEXT_COLOUR = (245, 245, 245)
LABEL_COLOUR = (255, 210, 80)


def caption_for(month: Month, climate: ClimateValues | None = None, label: str = "") -> str:
    """One frame's caption, e.g. "March 2021 · 21.4 °C · 3.2 mm/day · 19.9 MJ/m²/day"."""
    parts = [f"{MONTH_NAMES[month.month - 1]} {month.year}"]
    if climate is not None:
        parts += [
            f"{climate.temp_c:.1f} °C",
            f"{climate.precip_mm_day:.1f} mm/day",
            f"{climate.solar_mj_m2_day:.1f} MJ/m²/day",
        ]
    if label:
        parts.append(label)
    return " · ".join(parts)


def frame_caption(provenance: Provenance, *, with_climate: bool = True) -> str:
    """A generated frame's caption: month and final climate, then the "AI-generated" mark, place and scenario.

    e.g. "March 2021 · 24.4 °C · 2.2 mm/day · 19.9 MJ/m²/day" over
    "AI-generated · noise (tiny test model) · Nairobi, Kenya · +3 °C, −30 % rain".
    """
    head = caption_for(provenance.month, provenance.final_climate if with_climate else None)
    mark = image_label(provenance.place, None, provenance.scenario, noise=provenance.is_noise)
    return f"{head}\n{mark}"


def label_image(image: np.ndarray, label: str, fit_labels: Sequence[str] = ()) -> np.ndarray:
    """The image over a band carrying `label` (e.g. `Provenance.label`): the visible mark of an export.

    `fit_labels`: the labels of images shown beside this one (a slider, a pair), so every band gets
    the same font and height and the images stay the same size.
    """
    return compose_frame(_check_frame(image, 0, "Image"), label, fit_captions=fit_labels)


@functools.lru_cache(maxsize=8)
def caption_font(size_px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=True)
    return ImageFont.truetype(path, size_px)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _fit_lines(draw, text: str, font, width_px: int) -> list[str]:
    """Wrap `text` at its " · " separators so each line fits `width_px`."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for part in paragraph.split(" · "):
            candidate = f"{current} · {part}" if current else part
            if current and draw.textlength(candidate, font=font) > width_px:
                lines.append(current)
                current = part
            else:
                current = candidate
        lines.append(current)
    return lines


def _caption_font_px(draw, caption: str, width_px: int) -> tuple[int, int]:
    """Font size and margin for a caption band `width_px` wide.

    Lines break only at " · ", so on a narrow frame the font shrinks until the widest part fits
    (otherwise "MJ/m²/day" would be cut at the edge); 6 px is the smallest still legible.
    """
    parts = [part for paragraph in caption.split("\n") for part in paragraph.split(" · ")]
    font_px = max(9, min(22, width_px // 30))
    while True:
        margin = max(2, font_px // 3)
        widest = max(draw.textlength(part, font=caption_font(font_px)) for part in parts)
        if widest <= width_px - 2 * margin or font_px <= 6:
            return font_px, margin
        font_px -= 1


def _check_frame(frame: object, index: int, what: str) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        raise BadRequestError(
            f"{what} {index + 1} is not an 8-bit RGB image (got {type(frame).__name__} {shape}).",
            "Pass uint8 H x W x 3 arrays.",
        )
    return frame


def compose_frame(
    frame: np.ndarray, caption: str, real: np.ndarray | None = None, *, fit_captions: Sequence[str] = ()
) -> np.ndarray:
    """A frame (optionally `real | generated` side by side) over a caption band.

    The result's width and height are multiples of 16 (pad on the right if needed).

    Args:
        frame: the generated image, uint8 HxWx3.
        caption: the text under it.
        real: the real image to show on the left, or None.
        fit_captions: the other captions of the same animation: font and band height are chosen to
            fit them all, so every frame comes out the same size (a video needs that).
    """
    from PIL import Image, ImageDraw

    height, width = frame.shape[:2]
    tiles = [frame]
    if real is not None:
        if real.shape[:2] != frame.shape[:2]:
            real = np.asarray(Image.fromarray(real).resize((width, height), Image.Resampling.LANCZOS))
        tiles = [real, frame]
    picture = np.concatenate(tiles, axis=1)
    total_width = _round_up(picture.shape[1], MACRO_BLOCK_PX)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    everything = [caption, *fit_captions]
    font_px, margin = _caption_font_px(probe, "\n".join(everything), total_width)
    font = caption_font(font_px)
    lines = _fit_lines(probe, caption, font, total_width - 2 * margin)
    most_lines = max(len(_fit_lines(probe, text, font, total_width - 2 * margin)) for text in everything)
    line_height = int(font_px * 1.25)
    label_height = line_height if real is not None else 0
    band = _round_up(label_height + most_lines * line_height + 2 * margin, MACRO_BLOCK_PX)
    canvas = Image.new("RGB", (total_width, picture.shape[0] + band), BAND_COLOUR)
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    y = picture.shape[0] + margin
    if real is not None:
        draw.text((margin, y), "real", font=font, fill=LABEL_COLOUR)
        draw.text((width + margin, y), "generated", font=font, fill=LABEL_COLOUR)
        y += line_height
    for line in lines:
        draw.text((margin, y), line, font=font, fill=TEXT_COLOUR)
        y += line_height
    return np.asarray(canvas)


def _check_video(path: Path, expected_frames: int) -> None:
    """Read back an MP4: imageio-ffmpeg does not report every ffmpeg failure (a full disk leaves a
    file without its index), so a video counts as written only when all its frames decode."""
    import imageio_ffmpeg

    try:
        frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError) as err:
        frames, reason = 0, str(err).splitlines()[0] if str(err) else type(err).__name__
    else:
        reason = f"{frames} of {expected_frames} frames readable"
    if frames != expected_frames:
        raise EcoMapperError(
            f"Writing the MP4 failed: ffmpeg left an unreadable file ({reason}).",
            "Check free disk space and write permission in the output folder, or write a .gif instead.",
        )


def write_timelapse(
    frames: Sequence[np.ndarray],
    captions: Sequence[str],
    path: str | os.PathLike,
    fps: float = 2,
    side_by_side: Sequence[np.ndarray | None] | None = None,
) -> Path:
    """Write a captioned GIF or MP4 (chosen by the file suffix).

    Args:
        frames: generated images, uint8 HxWx3, all the same size.
        captions: one caption per frame (see `caption_for`).
        path: output `.gif` or `.mp4`.
        fps: frames per second (0.2 .. 30).
        side_by_side: real images to show left of each frame ("real | generated"); None entries
            show an empty tile.

    Returns:
        The path written. Nothing is left at `path` if writing fails.
    """
    import imageio.v3 as iio

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise BadRequestError(f"Cannot write a time-lapse as {target.name!r}.", "Name the file .gif or .mp4.")
    if not frames:
        raise BadRequestError("No frames to write.", "Generate at least one frame.")
    if len(captions) != len(frames):
        raise BadRequestError(f"{len(frames)} frames but {len(captions)} captions.", "Give one caption per frame.")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0.2 <= fps <= 30:
        raise BadRequestError(f"The frame rate {fps!r} is outside 0.2..30 fps.", "Use e.g. 2 frames per second.")
    frames = [_check_frame(f, i, "Frame") for i, f in enumerate(frames)]
    if len({f.shape for f in frames}) != 1:
        raise BadRequestError("The frames differ in size.", "Generate every frame at the same size.")
    reals: list[np.ndarray | None] = [None] * len(frames)
    if side_by_side is not None:
        if len(side_by_side) != len(frames):
            raise BadRequestError(
                f"{len(frames)} frames but {len(side_by_side)} real images.", "Give one real image (or None) per frame."
            )
        blank = np.zeros_like(frames[0])
        reals = [blank if r is None else _check_frame(r, i, "Real image") for i, r in enumerate(side_by_side)]
    composed = [compose_frame(f, c, r, fit_captions=captions) for f, c, r in zip(frames, captions, reals, strict=True)]

    with atomic_output(target) as tmp:
        if suffix == ".gif":
            iio.imwrite(tmp, composed, extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            iio.imwrite(
                tmp,
                composed,
                plugin="FFMPEG",
                fps=fps,
                codec="libx264",
                quality=8,
                macro_block_size=MACRO_BLOCK_PX,
                ffmpeg_log_level="error",
            )
            _check_video(tmp, len(composed))
    log.info("wrote %d frames to %s", len(composed), target)
    return target
