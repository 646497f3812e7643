"""Generation from fixed initial latents, as the paper's experiments do (one noise per seed, reused)."""

from __future__ import annotations

from typing import Any


def initial_latents(pipe: Any, seed: int, size_px: int) -> Any:
    """The starting noise of one seed at `size_px` (float32, CPU): the same seed gives the same tensor."""
    import torch

    generator = torch.Generator("cpu").manual_seed(seed)
    channels = pipe.transformer.config.in_channels
    side = size_px // pipe.vae_scale_factor
    return torch.randn((1, channels, side, side), generator=generator, dtype=torch.float32)


def generate_from_latents(
    pipe: Any,
    latents: Any,
    prompts: tuple[str, str],
    *,
    size_px: int,
    num_inference_steps: int,
    guidance_scale: float,
    control_image: Any = None,
) -> Any:
    """One uint8 H x W x 3 image: CLIP-L/G read prompts[0], T5 prompts[1] (256 tokens)."""
    import numpy as np
    import torch

    kwargs = dict(
        prompt=prompts[0],
        prompt_2=prompts[0],
        prompt_3=prompts[1],
        height=size_px,
        width=size_px,
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        latents=latents.to(pipe._execution_device, pipe.transformer.dtype),
        max_sequence_length=256,
        output_type="np",
    )
    if control_image is not None:
        kwargs["control_image"] = control_image
    with torch.inference_mode():
        image = pipe(**kwargs).images[0]
    return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)
