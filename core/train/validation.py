"""Validation images rendered during training with the weights as they are at that step."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationSet:
    """What to render: encoded prompts (text encoders are not needed later) and control images."""

    labels: tuple[str, ...]
    prompt_embeds: Any
    pooled_prompt_embeds: Any
    negative_prompt_embeds: Any
    negative_pooled_prompt_embeds: Any
    control_images: tuple[Any, ...] = ()  # PIL images, ControlNet only


def build_validation_set(config: Any, examples: list[Any], targets: list[int], encode_texts: Any) -> ValidationSet:
    """Free prompts from the config, or the full EcoMapper prompts of the first target samples."""
    from PIL import Image

    from core.dataset.reader import load_rgb
    from core.generation.prompts import build_prompts

    count = config.validation.num_images
    chosen = [examples[i] for i in targets[:count]] or examples[:1]
    if config.validation.prompts:
        pairs = [(text, text) for text in config.validation.prompts][:count]
        labels = tuple(config.validation.prompts[:count])
    else:
        prompts = [build_prompts(example.prompt_inputs) for example in chosen]
        pairs = [(p.spatial, p.climate) for p in prompts]
        labels = tuple(example.sample_id for example in chosen)
    embeds, pooled = encode_texts([p[0] for p in pairs], [p[1] for p in pairs])
    negative, negative_pooled = encode_texts([""] * len(pairs), [""] * len(pairs))
    controls: tuple[Any, ...] = ()
    if config.mode in ("controlnet", "controlnet_lora"):
        size = config.data.resolution_px
        controls = tuple(
            Image.fromarray(load_rgb(examples[chosen[i % len(chosen)].control_indices[0]].image_path)).resize(
                (size, size), Image.Resampling.BICUBIC
            )
            for i in range(len(pairs))
        )
    return ValidationSet(labels, embeds, pooled, negative, negative_pooled, controls)


def render_validation(
    pipe: Any, transformer: Any, controlnet: Any, validation: ValidationSet, config: Any, step: int, out_dir: Path
) -> list[Path]:
    """Generate one image per validation prompt and write `<out_dir>/step-<step>-<i>.png`."""
    import torch
    from diffusers import StableDiffusion3ControlNetPipeline, StableDiffusion3Pipeline

    from core.io.files import temporary_sibling

    components = {name: module for name, module in pipe.components.items() if name != "controlnet"}
    components["transformer"] = transformer
    if controlnet is not None:
        runner = StableDiffusion3ControlNetPipeline(**components, controlnet=controlnet)
    else:
        runner = StableDiffusion3Pipeline(**components)
    runner.set_progress_bar_config(disable=True)
    control_hook = None
    if controlnet is not None:
        from core.models.original_formats import install_control_range

        control_hook = install_control_range(runner, config.controlnet.control_range)
    device = next(transformer.parameters()).device
    dtype = next(transformer.parameters()).dtype
    written = []
    was_training = [m.training for m in (transformer, controlnet) if m is not None]
    transformer.eval()
    if controlnet is not None:
        controlnet.eval()
    try:
        for index in range(len(validation.labels)):
            generator = torch.Generator("cpu").manual_seed(config.seed + index)
            kwargs = dict(
                prompt_embeds=validation.prompt_embeds[index : index + 1].to(device, dtype),
                pooled_prompt_embeds=validation.pooled_prompt_embeds[index : index + 1].to(device, dtype),
                negative_prompt_embeds=validation.negative_prompt_embeds[index : index + 1].to(device, dtype),
                negative_pooled_prompt_embeds=validation.negative_pooled_prompt_embeds[index : index + 1].to(
                    device, dtype
                ),
                height=config.data.resolution_px,
                width=config.data.resolution_px,
                num_inference_steps=config.validation.num_inference_steps,
                guidance_scale=config.validation.guidance_scale,
                generator=generator,
            )
            if controlnet is not None:
                kwargs["control_image"] = validation.control_images[index]
                kwargs["controlnet_conditioning_scale"] = config.controlnet.conditioning_scale
            with torch.no_grad():
                image = runner(**kwargs).images[0]
            path = out_dir / f"step-{step:08d}-{index}.png"
            tmp = temporary_sibling(path)
            try:
                image.save(tmp, format="PNG")
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
            written.append(path)
    finally:
        if control_hook is not None:
            control_hook.remove()
        for module, mode in zip((m for m in (transformer, controlnet) if m is not None), was_training, strict=True):
            module.train(mode)
    log.info("validation images for step %d: %s", step, [p.name for p in written])
    return written
