"""Tiny peer-generator weights laid out where users put them: base mirrors and ControlNets under checkpoints/.

`checkpoints/<owner>--<name>/` is where `core.models.checkpoints.resolve_weights` looks for a Hub
repository before the Hugging Face cache, so the real loaders run offline on these folders.
"""

from __future__ import annotations

from pathlib import Path

from core.config import Settings


def save_tiny_sd_base(folder: Path, seed: int = 0) -> Path:
    """A tiny SD 1.x/2.x text-to-image pipeline saved like a Hub mirror (with DDIM, as SD 2.1 ships)."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    from core.models.backends.tiny_unets import build_tiny_sd_parts, build_tiny_unet

    pipe = StableDiffusionPipeline(
        **build_tiny_sd_parts(seed),
        unet=build_tiny_unet(seed + 3),
        scheduler=DDIMScheduler(beta_schedule="scaled_linear", steps_offset=1, clip_sample=False),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def save_tiny_controlnet_repo(folder: Path, seed: int = 0) -> Path:
    """A tiny ControlNetModel (made from the base's UNet) saved like a Hub ControlNet repository."""
    from core.models.backends.tiny_unets import build_tiny_controlnet, build_tiny_unet

    build_tiny_controlnet(build_tiny_unet(seed + 3), seed + 4).save_pretrained(folder)
    return folder


def hub_folder(settings: Settings, repo: str) -> Path:
    return settings.checkpoints_dir / repo.replace("/", "--")
