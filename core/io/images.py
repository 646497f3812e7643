"""Opening images a user hands us (control images, recipes, datasets, uploads) with a pixel limit.

The size is read from the header before any pixel is decoded, so a decompression bomb (a small
file that decodes to gigabytes) is refused with a clear message instead of exhausting memory or
raising PIL's `DecompressionBombError` from deep inside a run.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from core.errors import BadRequestError
from core.io.inputs import check_input_file
from core.limits import MAX_IMAGE_PIXELS


class ImageTooLargeError(BadRequestError):
    """An image whose header announces more pixels than we decode."""


def read_rgb(source: str | os.PathLike | bytes, what: str = "image", max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Decode a file path or bytes into uint8 H x W x 3 RGB, refusing images over `max_pixels`.

    Raises:
        ImageTooLargeError: the header announces more than `max_pixels` pixels.
        BadRequestError: missing file, or not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    name = "" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        check_input_file(source, what, "Give a PNG or JPEG file.")  # a FIFO would block the read forever
    handle = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
    try:
        with warnings.catch_warnings():
            # our own limit below is far lower than PIL's warning threshold
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(handle) as img:
                check_pixel_count(img.size, what, name, max_pixels)
                return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    except BadRequestError:  # ours (over the pixel limit): already says what to do
        raise
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(
            f"The {_label(what, name)} is far too large to decode ({err}).", _fix(max_pixels)
        ) from err
    except FileNotFoundError as err:
        raise BadRequestError(f"The {_label(what, name)} does not exist.", "Check the path.") from err
    except IsADirectoryError as err:
        raise BadRequestError(f"The {_label(what, name)} is a folder, not an image.", "Give an image file.") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise BadRequestError(
            f"The {_label(what, name)} is not a readable image ({err}).", "Give a PNG or JPEG file."
        ) from err


def check_pixel_count(size: tuple[int, int], what: str, name: str, max_pixels: int = MAX_IMAGE_PIXELS) -> None:
    """Raise ImageTooLargeError when width x height exceeds `max_pixels`."""
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The {_label(what, name)} is {width} x {height} px ({width * height:,} pixels), over the limit of "
            f"{max_pixels:,} pixels.",
            _fix(max_pixels),
        )


def _label(what: str, name: str) -> str:
    return f"{what} {name}" if name else what


def _fix(max_pixels: int) -> str:
    side = int(max_pixels**0.5)
    return f"Give an image of at most {side} x {side} px (the model works at 512 or 1024 px)."
