"""Control images as each ControlNet needs them: as is or as Canny edges.

An edge ControlNet gets edges, never the raw RGB image: `control_tensor` is the engine's only way
in and it applies the profile. The tensor is in [-1, 1], what the SD3 ControlNet pipeline feeds
its VAE; a ControlNet of the original EcoMapper scripts ([0, 1]) gets its range from the hook of
`core.models.original_formats.install_control_range` (`ModelSpec.control_range`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import BadRequestError
from core.models.registry import (
    CANNY_HIGH_THRESHOLD,
    CANNY_LOW_THRESHOLD,
    CANNY_SIGMA_PX,
    ControlProfile,
    known_controlnet,
)

log = logging.getLogger(__name__)

# A ControlNet folder may say what it needs in this file (our trainer and `python -m core` write it).
PROFILE_FILE = "ecomapper_control.json"
# Rec. 601 luma, as OpenCV's and PIL's RGB -> grey conversions.
_LUMA = np.array([0.299, 0.587, 0.114])


def canny_edges(image: np.ndarray) -> np.ndarray:
    """White Canny edges on black (uint8 H x W x 3) of an 8-bit RGB image.

    Thresholds `CANNY_LOW_THRESHOLD` / `CANNY_HIGH_THRESHOLD` apply to the Sobel gradient magnitude
    of the 0-255 grey image after a Gaussian blur of `CANNY_SIGMA_PX` (scikit-image's canny).
    """
    from skimage.feature import canny

    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise BadRequestError("Canny edges need an 8-bit RGB image (H x W x 3 uint8).", "Convert the image to RGB.")
    grey = image.astype(np.float64) @ _LUMA
    edges = canny(grey, sigma=CANNY_SIGMA_PX, low_threshold=CANNY_LOW_THRESHOLD, high_threshold=CANNY_HIGH_THRESHOLD)
    return np.repeat((edges.astype(np.uint8) * 255)[..., None], 3, axis=2)


def control_pixels(image: np.ndarray, profile: ControlProfile) -> np.ndarray:
    """The 8-bit image the ControlNet sees: the image itself, or its Canny edges for an edge ControlNet."""
    return canny_edges(image) if profile.is_edge else image


def control_tensor(image: np.ndarray, profile: ControlProfile, device: Any = "cpu", dtype: Any = None):
    """A (1, 3, H, W) tensor in [-1, 1] for the pipeline's `control_image`, preprocessed as the profile says."""
    import torch

    pixels = control_pixels(image, profile).astype(np.float32)
    scaled = pixels / 127.5 - 1.0
    tensor = torch.from_numpy(scaled).permute(2, 0, 1).unsqueeze(0).contiguous()
    return tensor.to(device=device, dtype=dtype or torch.float32)


def read_profile_file(folder: Path) -> ControlProfile | None:
    """The profile a ControlNet folder declares in `ecomapper_control.json`, or None."""
    path = Path(folder) / PROFILE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return ControlProfile(
            preprocess=str(data.get("preprocess", "none")),
            conditioning_scale=float(data.get("conditioning_scale", 1.0)),
        )
    except (OSError, json.JSONDecodeError, TypeError, ValueError) as err:
        raise BadRequestError(
            f"{path} is not a valid control profile ({err}).",
            'Write {"preprocess": "none", "conditioning_scale": 1.0} or delete it.',
        ) from err


def profile_for(ref: str | None, folder: Path | None = None) -> ControlProfile:
    """What a ControlNet needs: the registry's entry, else its folder's profile file, else the image as is.

    Args:
        ref: what the user gave (short name, Hub id, path), or None.
        folder: where its weights are (for the profile file).
    """
    known = known_controlnet(ref) if ref else None
    profile = known.profile if known else (read_profile_file(folder) if folder is not None else None)
    if profile is None:
        profile = ControlProfile()
        if ref is not None:
            log.info("ControlNet %s: no profile; it gets the control image as is", ref)
    return profile
