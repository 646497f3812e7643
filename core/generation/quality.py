"""`--quality preview`: a few-step LoRA with its own steps, guidance and LoRA scale, same seed as the full image.

The presets are the authors' recommendations: Hyper-SD3 8-step CFG LoRA (`ByteDance/Hyper-SD`, file
`Hyper-SD3-8steps-CFG-lora.safetensors`; guidance 5 at 8 steps, LoRA scale about 0.125). The file is
looked for in `checkpoints/<lora_ref>/` (put it there; it is not downloaded automatically).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BadRequestError

QUALITIES = ("full", "preview")


@dataclass(frozen=True)
class PreviewPreset:
    """A few-step LoRA for one base model and the sampling it was trained for."""

    lora_ref: str  # a folder name under checkpoints/
    lora_file: str
    source: str  # where to get the file
    lora_scale: float
    num_inference_steps: int
    guidance_scale: float


PREVIEW_PRESETS = {
    "sd3-medium": PreviewPreset(
        "hyper-sd3-8steps",
        "Hyper-SD3-8steps-CFG-lora.safetensors",
        "https://huggingface.co/ByteDance/Hyper-SD",
        lora_scale=0.125,
        num_inference_steps=8,
        guidance_scale=5.0,
    ),
    # the tiny model's preview: a LoRA the tests write, so the code path runs on a CPU
    "tiny-random": PreviewPreset(
        "tiny-preview", "pytorch_lora_weights.safetensors", "tests/support/gen_tiny_weights.py", 1.0, 2, 1.0
    ),
}


def preview_preset(model_id: str, lora: str | None) -> PreviewPreset:
    """The preview preset of `model_id`.

    Raises:
        BadRequestError: no preset for the model, or a LoRA was given too (one LoRA per model).
    """
    preset = PREVIEW_PRESETS.get(model_id)
    if preset is None:
        raise BadRequestError(
            f"No preview LoRA is known for {model_id}.",
            f"Use --quality preview with {' or '.join(PREVIEW_PRESETS)}, or --quality full.",
        )
    if lora is not None:
        raise BadRequestError(
            "--quality preview and --lora both given: the preview is a LoRA itself.",
            "Leave out --lora for a preview, or --quality preview for your LoRA.",
        )
    return preset
