"""Cloud gap filling of a real scene: the cloudy pixels (scene classification layer) repainted under the
request's prompts by SD3 inpainting, every clear pixel kept as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.generation.prompts import Prompts
from core.generation.request import GenerationRequest


@dataclass(frozen=True)
class FilledScene:
    """The filled image, the cloud mask (True = filled) and what made it."""

    image: np.ndarray = field(repr=False)
    mask: np.ndarray = field(repr=False)
    scene_id: str
    prompts: Prompts
    model_id: str
    warnings: tuple[str, ...]

    @property
    def filled_fraction(self) -> float:
        return float(self.mask.mean())


def fill_scene_clouds(request: GenerationRequest, engine: Any, settings: Settings, progress: Any = None) -> FilledScene:
    """Fetch the real scene of `request.month` and its cloud mask, and repaint the clouds.

    The request gives the place, month, land cover, climate, seed, steps, guidance and size; its
    cloud fraction is taken as 0 (the filled image is to look clear).
    """
    from core.generation.gapfill import fetch_cloud_mask, fill_clouds
    from core.sources.imagery import fetch_scene

    request = request.replace(cloud_fraction=0.0).with_place(settings)
    scene = fetch_scene(request.point, request.month, settings, size_px=request.size_px)
    mask = fetch_cloud_mask(request.point, request.month, settings, scene.scene_id, size_px=request.size_px)
    prompts = request.prompts()
    filled = fill_clouds(
        scene.image,
        mask,
        engine,
        prompts,
        seed=request.seed,
        num_inference_steps=request.num_inference_steps,
        guidance_scale=request.guidance_scale,
    )
    return FilledScene(filled, mask, scene.scene_id, prompts, engine.model_id, tuple(engine.loaded.warnings))


def write_filled_scene(filled: FilledScene, out: str | Path) -> dict[str, str]:
    """The filled PNG (with what is real and what is generated in its metadata) and the mask beside it."""
    from core.export.image_files import write_png

    out = Path(out)
    metadata = {
        "scene_id": filled.scene_id,
        "prompt": filled.prompts.spatial,
        "climate_prompt": filled.prompts.climate,
        "model": filled.model_id,
        "filled_fraction": f"{filled.filled_fraction:.4f}",
        "note": "clear pixels are the real scene's; masked pixels are AI-generated",
    }
    written = {"png": str(write_png(filled.image, out, metadata))}
    mask_rgb = np.repeat((filled.mask.astype(np.uint8) * 255)[..., None], 3, axis=2)
    written["mask"] = str(write_png(mask_rgb, out.with_suffix(".mask.png"), {"note": "white = filled (SCL cloud)"}))
    return written
