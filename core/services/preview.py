"""The app's quick preview: a few-step image from the model's preview LoRA (`--quality preview`,
`core.generation.quality`) shown first, then the full image from the same seed.

Both come from ONE loaded base with the preview LoRA attached: the preview at the preset's LoRA
scale, steps and guidance, the full image at LoRA scale 0 (the base model's output), so asking for
a preview never loads the model twice. Where the model has no preset, its LoRA file is not in the
checkpoints folder, or the user runs a LoRA of their own, there is no plan and nothing changes. A preset
that is a distilled model (sd3.5-large's Turbo) is not previewed in the app either: it would load a
second model beside the base on every Generate; the hint says how to run it instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from core.config import Settings
from core.generation.quality import PREVIEW_PRESETS, PreviewPreset
from core.generation.request import GenerationRequest
from core.model_policy import NotAllowedError
from core.models.spec import ModelSpec


@dataclass(frozen=True)
class PreviewPlan:
    """The preview's model and request, and the full image's model (its request is the user's)."""

    preset: PreviewPreset
    preview_spec: ModelSpec
    full_spec: ModelSpec

    def preview_request(self, request: GenerationRequest) -> GenerationRequest:
        """`request` at the preset's steps and guidance, on the preview model, with the same seed."""
        return request.replace(
            model=self.preview_spec,
            num_inference_steps=self.preset.num_inference_steps,
            guidance_scale=self.preset.guidance_scale,
        )

    def full_request(self, request: GenerationRequest) -> GenerationRequest:
        return request.replace(model=self.full_spec)


def _lora_file(preset: PreviewPreset, settings: Settings) -> Path:
    return settings.checkpoints_dir / preset.lora_ref / preset.lora_file


def preview_lora_present(model_id: str, settings: Settings) -> bool:
    """True when `model_id`'s preview preset is a LoRA and its file is in the checkpoints folder."""
    preset = PREVIEW_PRESETS.get(model_id)
    return preset is not None and preset.is_lora and _lora_file(preset, settings).is_file()


def _offered(path: str, settings: Settings) -> bool:
    """A shared server's policy offers files under its checkpoints folder; one elsewhere is not previewed."""
    if settings.model_policy is None:
        return True
    try:
        settings.model_policy.check("LoRA", path)
    except NotAllowedError:
        return False
    return True


def _preview_lora(spec: ModelSpec, settings: Settings) -> tuple[PreviewPreset, str] | None:
    """(preset, LoRA file path) when `spec` can carry its model's preview LoRA, else None."""
    if spec.lora is not None or not preview_lora_present(spec.model_id, settings):
        return None
    preset = PREVIEW_PRESETS[spec.model_id]
    # the file's path, not the preset's name: a server's policy offers what is in its checkpoints folder
    path = str(_lora_file(preset, settings).resolve())
    return (preset, path) if _offered(path, settings) else None


def with_preview_base(spec: ModelSpec, settings: Settings) -> ModelSpec:
    """The weights every mode loads when a preview is possible: the preview LoRA attached at scale 0 (the
    base model's pixels), so the preview, the full image and the other modes share one loaded base."""
    found = _preview_lora(spec, settings)
    return spec if found is None else replace(spec, lora=found[1], lora_scale=0.0)


def preview_plan(spec: ModelSpec, mode: str, settings: Settings) -> PreviewPlan | None:
    """How to show a preview before the full image of `spec`, or None when there is none to show.

    None when: the model has no preview preset or its LoRA file is missing, the user's own LoRA is
    loaded (one LoRA per model), or the mode is not text-to-image / ControlNet (the preset's few
    steps are trained for sampling from noise).
    """
    found = _preview_lora(spec, settings) if mode in ("text", "controlnet") else None
    if found is None:
        return None
    preset, path = found
    preview = replace(spec, lora=path, lora_scale=preset.lora_scale)
    return PreviewPlan(preset, preview, with_preview_base(spec, settings))


def preview_hint(model_id: str, settings: Settings) -> str:
    """One line for the UI: whether Generate shows a quick preview first with this model, and why not."""
    preset = PREVIEW_PRESETS.get(model_id)
    if preset is None:
        return f"No quick preview for {model_id}: it has no few-step LoRA; the full image comes as before."
    if not preset.is_lora:
        return (
            f"No quick preview for {model_id}: its few-step variant is a separate model ({preset.model_ref}, "
            f"{preset.num_inference_steps} steps), not a LoRA on the loaded one. Pick it as the model with "
            f"{preset.num_inference_steps} steps and guidance {preset.guidance_scale:g}, or use --quality preview "
            "on the command line; the full image comes as before."
        )
    if not preview_lora_present(model_id, settings):
        return (
            f"No quick preview: put {preset.lora_file} ({preset.source}) in checkpoints/{preset.lora_ref}/ "
            "to see a few-step image first; the full image comes as before."
        )
    return (
        f"Quick preview on: a {preset.num_inference_steps}-step image ({preset.name}) first, then the full "
        "image from the same seed (not with a LoRA of your own)."
    )
