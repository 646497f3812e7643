"""`--quality preview` presets: a few-step LoRA on the base, or (sd3.5-large) a distilled model instead of it."""

from __future__ import annotations

import pytest

from core.cli import build_parser
from core.commands._generation_args import sampling_from, spec_from
from core.config import Settings
from core.generation.quality import PreviewPreset
from core.services import ModelSpec, preview_hint, preview_plan

PLACE = ["--lat", "-1.5", "--lon", "36.8", "--month", "2021-03", "--out", "x.png"]


def _preview_args(model_id: str):
    return build_parser().parse_args(["generate", *PLACE, "--model", model_id, "--quality", "preview"])


def test_a_preset_is_either_a_lora_or_a_model():
    with pytest.raises(ValueError, match="either lora_ref and lora_file, or model_ref"):
        PreviewPreset("both", "-", 4, 0.0, lora_ref="a", lora_file="a.safetensors", model_ref="owner/model")
    with pytest.raises(ValueError, match="either"):
        PreviewPreset("neither", "-", 4, 0.0)
    with pytest.raises(ValueError, match="either"):
        PreviewPreset("no file", "-", 4, 0.0, lora_ref="a")


def test_the_sd35_presets_set_their_authors_weights_steps_and_guidance():
    args = _preview_args("sd3.5-medium")
    spec = spec_from(args)
    assert (spec.model_id, spec.lora, spec.lora_scale) == ("sd3.5-medium", "sd3.5m-turbo-8steps", 1.0)
    assert (sampling_from(args)["num_inference_steps"], sampling_from(args)["guidance_scale"]) == (8, 1.5)
    args = _preview_args("sd3.5-large")
    spec = spec_from(args)
    # the distilled model replaces the base: no LoRA is put on anything
    assert (spec.model_id, spec.lora) == ("stabilityai/stable-diffusion-3.5-large-turbo", None)
    assert (sampling_from(args)["num_inference_steps"], sampling_from(args)["guidance_scale"]) == (4, 0.0)


def test_the_app_previews_a_lora_preset_but_not_a_distilled_model(tmp_path):
    settings = Settings.from_env().with_(checkpoints_dir=tmp_path)
    assert preview_plan(ModelSpec("sd3.5-medium"), "text", settings) is None
    assert "put lora_sd3.5m_turbo_8steps.safetensors" in preview_hint("sd3.5-medium", settings)
    (tmp_path / "sd3.5m-turbo-8steps").mkdir()
    (tmp_path / "sd3.5m-turbo-8steps" / "lora_sd3.5m_turbo_8steps.safetensors").write_bytes(b"")
    plan = preview_plan(ModelSpec("sd3.5-medium"), "text", settings)
    assert plan.preview_spec.lora.endswith("lora_sd3.5m_turbo_8steps.safetensors")
    assert (plan.preview_spec.lora_scale, plan.full_spec.lora_scale) == (1.0, 0.0)
    assert preview_hint("sd3.5-medium", settings).startswith("Quick preview on: a 8-step image (TensorArt")
    # a second 8 B model is not loaded beside the base on every Generate; the hint says how to run it
    assert preview_plan(ModelSpec("sd3.5-large"), "text", settings) is None
    hint = preview_hint("sd3.5-large", settings)
    assert "separate model (stabilityai/stable-diffusion-3.5-large-turbo, 4 steps)" in hint
    assert "guidance 0" in hint and "--quality preview" in hint
