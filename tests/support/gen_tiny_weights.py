"""Tiny SD3 weights written to folders the way users get them: a pipeline, a LoRA, a ControlNet."""

from __future__ import annotations

from pathlib import Path

LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def save_tiny_pipeline(folder: Path, seed: int = 0) -> Path:
    """The tiny random SD3 pipeline saved with save_pretrained."""
    from core.models.tiny import build_tiny_pipeline

    build_tiny_pipeline(seed=seed).save_pretrained(folder)
    return folder


def save_tiny_lora(folder: Path, seed: int = 0, rank: int = 4) -> Path:
    """A random (non-zero) LoRA on the tiny transformer, saved with save_lora_weights."""
    import torch
    from diffusers import StableDiffusion3Pipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from core.models.tiny import build_tiny_transformer

    transformer = build_tiny_transformer(seed=4)
    torch.manual_seed(seed)
    # init_lora_weights=False: random B as well as A, so the adapter changes the output at once
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=LORA_TARGETS, init_lora_weights=False))
    StableDiffusion3Pipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(transformer))
    return folder


def save_tiny_controlnet(folder: Path, seed: int = 0) -> Path:
    """A ControlNet made with from_transformer from the tiny transformer, with non-zero control blocks."""
    import torch

    from core.models.tiny import build_controlnet_from_transformer, build_tiny_transformer

    controlnet = build_controlnet_from_transformer(build_tiny_transformer(seed=4))
    torch.manual_seed(seed)
    with torch.no_grad():
        # from_transformer zero-initialises the control paths; give them weights so they act
        for block in controlnet.controlnet_blocks:
            block.weight.normal_(0, 0.5)
        controlnet.pos_embed_input.proj.weight.normal_(0, 0.5)
    controlnet.save_pretrained(folder)
    return folder
