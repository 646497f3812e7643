"""Text2Earth as a backend: a text prompt with a resolution prefix set from the footprint's ground size.

Text2Earth reads the resolution from a prompt prefix "<level>_GOOGLE_LEVEL_" (Google Maps level
10..18, resolution 2^(17 - level) m per pixel, per its README); its own pipeline file, shipped in
the Hub repository (`pipeline_text2earth_diffusion.py`), turns the prefix into the UNet's class label.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from core.config import Settings
from core.models.backends.base import ProgressCallback
from core.models.backends.registry import BackendInfo
from core.models.backends.sd_common import Drawn, SDPipelineBackend, device_and_dtype, load_sd_pipeline, spatial_prompt

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest

MIN_LEVEL, MAX_LEVEL = 10, 18


def resolution_level(gsd_m: float) -> int:
    """The Google Maps level whose 2^(17 - level) m/px is nearest to gsd_m (in log scale), clamped to 10..18."""
    if not math.isfinite(gsd_m) or gsd_m <= 0:
        raise ValueError(f"ground size {gsd_m!r} must be a positive number of metres")
    return max(MIN_LEVEL, min(MAX_LEVEL, round(17 - math.log2(gsd_m))))


def resolution_prompt(gsd_m: float, text: str) -> str:
    return f"{resolution_level(gsd_m)}_GOOGLE_LEVEL_{text}"


class Text2EarthBackend(SDPipelineBackend):
    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        level = resolution_level(request.ground_m_per_px)
        prompt = resolution_prompt(request.ground_m_per_px, spatial_prompt(request))
        image = self.sample(request, prompt, progress, cancel)
        warnings = []
        if 2.0 ** (17 - level) != request.ground_m_per_px:
            warnings.append(
                f"Text2Earth's nearest level {level} is {2.0 ** (17 - level):g} m/px; the footprint is "
                f"{request.ground_m_per_px:g} m/px."
            )
        conditioning = {"google_level": level, "level_m_per_px": 2.0 ** (17 - level)}
        return Drawn(image, prompt, conditioning, warnings=tuple(warnings))


def build_tiny_text2earth_pipeline(seed: int = 0):
    """A tiny random text-to-image SD pipeline (noise) standing in for Text2Earth's architecture."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from core.models.backends.tiny_unets import build_tiny_sd_parts, build_tiny_unet

    return StableDiffusionPipeline(
        **build_tiny_sd_parts(seed),
        unet=build_tiny_unet(seed + 3),
        scheduler=EulerDiscreteScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def load_text2earth(info: BackendInfo, settings: Settings) -> Text2EarthBackend:
    """Load Text2Earth from checkpoints/, the HF cache or the Hub, with its own pipeline file."""
    if info.is_tiny:
        return Text2EarthBackend(info, build_tiny_text2earth_pipeline())
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from core.models.backends.download import fetch_text2earth_pipeline_file
    from core.models.checkpoints import resolve_weights

    device, dtype = device_and_dtype(settings)
    repo = info.options["repo"]
    folder = resolve_weights(repo, settings, skip_parts=("safety_checker", "feature_extractor")).path
    pipeline_file = fetch_text2earth_pipeline_file(folder, repo, settings)
    scheduler = EulerDiscreteScheduler.from_pretrained(folder, subfolder="scheduler")  # as its README runs it
    pipe = load_sd_pipeline(
        StableDiffusionPipeline, folder, dtype, scheduler=scheduler, custom_pipeline=str(pipeline_file)
    )
    return Text2EarthBackend(info, pipe.to(device), origin=str(folder))
