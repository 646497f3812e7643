"""`--quality preview`: a model's few-step variant with its own steps and guidance, same seed as the full image.

The presets are their authors' recommendations:

- sd3-medium: Hyper-SD3 8-step CFG LoRA (Hub `ByteDance/Hyper-SD`, file
  `Hyper-SD3-8steps-CFG-lora.safetensors`; guidance 5 at 8 steps, LoRA scale about 0.125).
- sd3.5-medium: TensorArt's SD3.5M Turbo LoRA (Hub `tensorart/stable-diffusion-3.5-medium-turbo`, file
  `lora_sd3.5m_turbo_8steps.safetensors`; its model card's diffusers example fuses it at scale 1 on
  `stabilityai/stable-diffusion-3.5-medium` and samples 8 steps at guidance 1.5 with the base scheduler).
- sd3.5-large: Stability AI's own distilled model `stabilityai/stable-diffusion-3.5-large-turbo` (ADD,
  4 steps at guidance 0 per its model card). It is NOT a LoRA: the preview loads that second model (same
  text encoders and VAE, its own 8 B transformer) instead of the base. (TensorArt's SD3.5 Large TurboX
  also ships a LoRA, 8 steps / guidance 1 but at scheduler shift 5; its file name could not be checked
  here, so it is not a preset.)

A LoRA file is looked for in `checkpoints/<lora_ref>/` (put it there; it is not downloaded
automatically); a distilled model is loaded like any `--model` (checkpoints folder, Hugging Face cache,
then the Hub).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BadRequestError

QUALITIES = ("full", "preview")


@dataclass(frozen=True)
class PreviewPreset:
    """A base model's few-step variant and the sampling it was trained for: either a LoRA put on the base
    (`lora_ref`, `lora_file`, `lora_scale`) or a separately distilled model that replaces it (`model_ref`)."""

    name: str  # what it is, for hints and tables
    source: str  # where to get it
    num_inference_steps: int
    guidance_scale: float
    lora_ref: str | None = None  # a folder name under checkpoints/
    lora_file: str | None = None
    lora_scale: float = 1.0
    model_ref: str | None = None  # a Hub repository or folder loaded instead of the base

    def __post_init__(self) -> None:
        if (self.lora_ref is None) == (self.model_ref is None) or (self.lora_ref is None) != (self.lora_file is None):
            raise ValueError(f"preset {self.name!r}: give either lora_ref and lora_file, or model_ref")

    @property
    def is_lora(self) -> bool:
        return self.lora_ref is not None

    def spec_changes(self) -> dict:
        """The `ModelSpec` fields the preview sets: the LoRA and its scale, or the distilled model."""
        if self.is_lora:
            return {"lora": self.lora_ref, "lora_scale": self.lora_scale}
        return {"model_id": self.model_ref, "lora": None}


PREVIEW_PRESETS = {
    "sd3-medium": PreviewPreset(
        "Hyper-SD3 8-step CFG LoRA",
        "https://huggingface.co/ByteDance/Hyper-SD",
        num_inference_steps=8,
        guidance_scale=5.0,
        lora_ref="hyper-sd3-8steps",
        lora_file="Hyper-SD3-8steps-CFG-lora.safetensors",
        lora_scale=0.125,
    ),
    "sd3.5-medium": PreviewPreset(
        "TensorArt SD3.5M Turbo 8-step LoRA",
        "https://huggingface.co/tensorart/stable-diffusion-3.5-medium-turbo",
        num_inference_steps=8,
        guidance_scale=1.5,
        lora_ref="sd3.5m-turbo-8steps",
        lora_file="lora_sd3.5m_turbo_8steps.safetensors",
        lora_scale=1.0,
    ),
    "sd3.5-large": PreviewPreset(
        "Stable Diffusion 3.5 Large Turbo (a distilled model, not a LoRA)",
        "https://huggingface.co/stabilityai/stable-diffusion-3.5-large-turbo",
        num_inference_steps=4,
        guidance_scale=0.0,
        model_ref="stabilityai/stable-diffusion-3.5-large-turbo",
    ),
    # the tiny model's preview: a LoRA the tests write, so the code path runs on a CPU
    "tiny-random": PreviewPreset(
        "tiny preview LoRA (tests)",
        "tests/support/gen_tiny_weights.py",
        num_inference_steps=2,
        guidance_scale=1.0,
        lora_ref="tiny-preview",
        lora_file="pytorch_lora_weights.safetensors",
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
            f"No preview LoRA or distilled model is known for {model_id}.",
            f"Use --quality preview with {' or '.join(PREVIEW_PRESETS)}, or --quality full.",
        )
    if lora is not None:
        raise BadRequestError(
            "--quality preview and --lora both given: the preview is a LoRA or a model of its own.",
            "Leave out --lora for a preview, or --quality preview for your LoRA.",
        )
    return preset
