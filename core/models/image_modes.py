"""Pipeline inputs of the image-conditioned modes: image-to-image, inpainting and ControlNet.

Each mode's extra arguments are made here from a uint8 image (and a mask), so the engine stays
one loop: img2img starts from the image noised to `strength`; inpainting repaints where the mask
is set; a ControlNet gets its control image prepared as its profile says (Canny edges for an edge
ControlNet, never the raw image; its control range).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import BadRequestError


def mode_inputs(
    loaded: Any,
    mode: str,
    image: np.ndarray | None,
    mask: np.ndarray | None,
    strength: float,
    conditioning_scale: float,
) -> dict[str, Any]:
    """Keyword arguments for the `mode` pipeline's call (besides prompts, size, steps, generator)."""
    from PIL import Image

    if mode == "text":
        return {}
    if image is None:
        raise BadRequestError(f"{mode} mode needs an image.", "Give a start / control image or month.")
    if mode == "controlnet":
        from core.models.control import control_tensor
        from core.models.registry import ControlProfile

        profile = loaded.controlnet_profile or ControlProfile()
        return {
            "control_image": control_tensor(image, profile, device=loaded.device, dtype=loaded.dtype),
            "controlnet_conditioning_scale": conditioning_scale,
        }
    kwargs: dict[str, Any] = {"image": Image.fromarray(image), "strength": strength}
    if mode == "inpaint":
        if mask is None or not mask.any():
            raise BadRequestError("Inpainting needs a mask with at least one pixel set.", "Give the cloud mask.")
        kwargs["mask_image"] = Image.fromarray(mask.astype(np.uint8) * 255)
    return kwargs


def vae_round_trip(pipe: Any, image: np.ndarray) -> np.ndarray:
    """The image encoded and decoded by the pipeline's VAE (what img2img at strength 0 returns).

    diffusers refuses a run with zero denoising steps, and at strength 0 there is nothing to
    denoise: the latents of the start image are decoded as they are (mean of the posterior).
    """
    import torch

    processor = pipe.image_processor
    vae = pipe.vae
    with torch.inference_mode():
        pixels = processor.preprocess(image[None].astype(np.float32) / 255.0).to(vae.device, vae.dtype)
        latents = vae.encode(pixels).latent_dist.mode()
        decoded = vae.decode(latents).sample
        out = processor.postprocess(decoded, output_type="np")[0]
    return (np.clip(out, 0.0, 1.0) * 255.0).round().astype(np.uint8)
