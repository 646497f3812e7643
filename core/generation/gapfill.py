"""Cloud gap filling: repaint the cloudy pixels of a real scene with SD3 inpainting, keep every clear pixel.

The mask comes from the scene classification layer (SCL classes cloud shadow, medium and high
cloud, cirrus, as `core.sources.imagery` counts cloud). The inpainting pipeline repaints the
masked area under the place / month / climate prompt; its output is then pasted into the real
image only where the mask is set, so clear pixels stay byte-identical (the VAE round trip would
otherwise change them). `evaluate_gap_filling` scores fillers inside the mask against the truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, NoImageryError
from core.geo import Month, Point
from core.sources.imagery import SCL_CLOUD_CLASSES

log = logging.getLogger(__name__)

# Inpainting redraws the masked area from noise (strength 1) by default: nothing under a cloud is known.
DEFAULT_INPAINT_STRENGTH = 1.0
# Cloud edges are soft and the SCL is 20 m: grow the mask a little so no haze is left at its rim.
MASK_DILATION_PX = 2


def cloud_mask_from_scl(scl: np.ndarray, size_px: int, dilation_px: int = MASK_DILATION_PX) -> np.ndarray:
    """A bool size_px x size_px mask (True = cloud or shadow) from an SCL array of any square size.

    The SCL is upsampled with nearest neighbour (classes must not blend), then dilated.
    """
    from PIL import Image
    from scipy.ndimage import binary_dilation

    if scl.ndim != 2:
        raise BadRequestError(f"The SCL has shape {scl.shape}, not H x W.", "Read one band of the SCL asset.")
    cloudy = np.isin(scl, SCL_CLOUD_CLASSES)
    if cloudy.shape != (size_px, size_px):
        resized = Image.fromarray(cloudy.astype(np.uint8) * 255).resize((size_px, size_px), Image.Resampling.NEAREST)
        cloudy = np.asarray(resized) > 0
    if dilation_px > 0 and cloudy.any():
        cloudy = binary_dilation(cloudy, iterations=dilation_px)
    return cloudy


def fetch_cloud_mask(
    point: Point, month: Month, settings: Settings, scene_id: str, size_px: int = 512, client: Any = None
) -> np.ndarray:
    """The cloud mask of one Sentinel-2 scene over the footprint, read from its SCL asset.

    Args:
        scene_id: the scene whose image is filled (`Scene.scene_id` from `fetch_scene`).

    Raises:
        NoImageryError: the scene is not found for the month, or it has no SCL asset.
    """
    from core.io.http import HttpClient
    from core.sources.cog import read_footprint
    from core.sources.imagery import _footprint_for, search_scenes

    client = client or HttpClient(settings)
    candidates = {c.scene_id: c for c in search_scenes(point, month, settings, client)}
    candidate = candidates.get(scene_id)
    if candidate is None or not candidate.scl_href:
        raise NoImageryError(
            f"The scene {scene_id} of {month} has no scene classification layer to take a cloud mask from.",
            "Pick a month whose scene lists an SCL asset (Earth Search 'scl', Planetary Computer 'SCL').",
        )
    read = read_footprint(candidate.scl_href, _footprint_for(point, candidate), settings, indexes=[1], size_px=size_px)
    return cloud_mask_from_scl(read.data[0], size_px)


def paste_into(real: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`filled` where the mask is set, `real` (the very bytes) everywhere else."""
    if real.shape != filled.shape or real.shape[:2] != mask.shape:
        raise BadRequestError(
            f"Image {real.shape}, fill {filled.shape} and mask {mask.shape} differ in size.", "Use the same size."
        )
    return np.where(mask[..., None], filled, real).astype(np.uint8)


def fill_clouds(
    image: np.ndarray,
    mask: np.ndarray,
    engine: Any,
    prompts: Any,
    *,
    seed: int = 0,
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    strength: float = DEFAULT_INPAINT_STRENGTH,
) -> np.ndarray:
    """SD3 inpainting of the masked pixels of a real uint8 image; clear pixels returned unchanged.

    Args:
        image: the real scene, uint8 H x W x 3 (H = W, a multiple of 16).
        mask: bool H x W, True where clouds are.
        engine: a `core.models.engine.Engine` (its base is shared with the other modes).
        prompts: the place / month / climate prompts (`core.generation.prompts.Prompts`).
    """
    from core.models.engine import FrameJob

    if not mask.any():
        return image.copy()
    (generated,), _ = engine.run_frames(
        [FrameJob(prompts, seed, control_image=image, mask=mask)],
        mode="inpaint",
        size_px=image.shape[0],
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        strength=strength,
    )
    return paste_into(image, generated, mask)


def fill_with_mean(image: np.ndarray, mask: np.ndarray, _earlier: np.ndarray | None = None) -> np.ndarray:
    """Baseline: every masked pixel gets the mean colour of the clear pixels."""
    clear = image[~mask]
    mean = clear.mean(axis=0) if clear.size else np.full(3, 127.5)
    return paste_into(image, np.broadcast_to(mean.round().astype(np.uint8), image.shape).copy(), mask)


def fill_from_earlier(image: np.ndarray, mask: np.ndarray, earlier: np.ndarray | None) -> np.ndarray:
    """Baseline: the masked pixels from the nearest clear earlier month of the same place."""
    if earlier is None:
        raise BadRequestError("No earlier clear month to fill from.", "Give the earlier month's image.")
    return paste_into(image, earlier, mask)


def masked_psnr(truth: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB, 8-bit) over the masked pixels only."""
    diff = truth[mask].astype(np.float64) - filled[mask].astype(np.float64)
    mse = float((diff**2).mean())
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def masked_ssim(truth: np.ndarray, filled: np.ndarray, mask: np.ndarray) -> float:
    """The SSIM map (7 x 7 windows, colour channels averaged) averaged over the masked pixels."""
    from skimage.metrics import structural_similarity

    _, ssim_map = structural_similarity(truth, filled, channel_axis=2, data_range=255, full=True)
    return float(ssim_map.mean(axis=2)[mask].mean())


@dataclass(frozen=True)
class GapFillCase:
    """One evaluation case: a clear real scene, a cloud mask from another real scene, and the
    nearest clear earlier month of the same place."""

    name: str
    truth: np.ndarray
    mask: np.ndarray
    earlier: np.ndarray | None
    prompts: Any = None
    mask_source: str = ""


Filler = Callable[[np.ndarray, np.ndarray, np.ndarray | None, GapFillCase], np.ndarray]


def evaluate_gap_filling(cases: Sequence[GapFillCase], fillers: dict[str, Filler]) -> list[dict[str, Any]]:
    """Mean PSNR and SSIM inside the mask, per filler, over the cases (rows in `fillers` order).

    Each filler gets the truth with its masked pixels blanked (it must not see them), the mask, the
    earlier clear image and the case; its output's clear pixels must equal the input's.
    """
    rows = []
    for name, filler in fillers.items():
        psnrs, ssims, cloud = [], [], []
        for case in cases:
            hidden = case.truth.copy()
            hidden[case.mask] = 0
            filled = filler(hidden, case.mask, case.earlier, case)
            if not np.array_equal(filled[~case.mask], case.truth[~case.mask]):
                raise AssertionError(f"{name} changed clear pixels of {case.name}")
            psnrs.append(masked_psnr(case.truth, filled, case.mask))
            ssims.append(masked_ssim(case.truth, filled, case.mask))
            cloud.append(float(case.mask.mean()))
        rows.append(
            {
                "method": name,
                "cases": len(cases),
                "mask_fraction": float(np.mean(cloud)) if cloud else 0.0,
                "psnr_db": float(np.mean(psnrs)) if psnrs else float("nan"),
                "ssim": float(np.mean(ssims)) if ssims else float("nan"),
            }
        )
    return rows


def gap_filling_table_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| method | cases | mean mask fraction | PSNR in mask (dB) ↑ | SSIM in mask ↑ |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['method']} | {row['cases']} | {row['mask_fraction']:.3f} | {row['psnr_db']:.2f} | "
            f"{row['ssim']:.4f} |"
        )
    return "\n".join(lines)
