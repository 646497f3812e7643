"""The tiny random SD3 (tokenizers built in code) and the model-id registry."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadRequestError, ModelUnavailableError
from core.models.registry import MODEL_IDS, list_models, resolve_model_id
from core.models.tiny import build_tiny_clip_tokenizer, build_tiny_pipeline, build_tiny_t5_tokenizer

PROMPT = "a cloudy satellite image of Croplands in Kenya on March 2021."


def test_tokenizers_know_our_prompt_words():
    clip = build_tiny_clip_tokenizer()
    tokens = clip.convert_ids_to_tokens(clip(PROMPT).input_ids)
    expected = ["<|startoftext|>", "a</w>", "cloudy</w>", "satellite</w>", "image</w>", "of</w>", "croplands</w>"]
    assert tokens[:7] == expected
    assert tokens[-1] == "<|endoftext|>" and clip.unk_token_id not in clip(PROMPT).input_ids[1:-1]
    t5 = build_tiny_t5_tokenizer()
    pieces = t5.convert_ids_to_tokens(t5(PROMPT).input_ids)
    assert pieces[:4] == ["▁a", "▁cloudy", "▁satellite", "▁image"] and pieces[-1] == "</s>"
    assert t5.unk_token_id not in t5(PROMPT).input_ids


def test_tiny_pipeline_is_deterministic_and_sized():
    import torch

    def run(seed_weights: int, seed_noise: int, size: int) -> np.ndarray:
        pipe = build_tiny_pipeline(seed=seed_weights)
        generator = torch.Generator().manual_seed(seed_noise)
        out = pipe(PROMPT, height=size, width=size, num_inference_steps=2, generator=generator, output_type="np")
        return out.images[0]

    first = run(0, 0, 64)
    assert first.shape == (64, 64, 3)
    np.testing.assert_array_equal(first, run(0, 0, 64))
    assert not np.array_equal(first, run(1, 0, 64))
    assert run(0, 0, 128).shape == (128, 128, 3)


def test_tiny_controlnet_pipeline_leaves_transformer_config_alone():
    pipe = build_tiny_pipeline(with_controlnet=True)
    assert pipe.controlnet.config.num_layers == 1
    assert pipe.transformer.config.num_layers == 2
    assert "extra_conditioning_channels" not in pipe.transformer.config


def test_registry():
    assert MODEL_IDS["sd3-medium"] == "stabilityai/stable-diffusion-3-medium-diffusers"
    tiny = resolve_model_id("tiny-random")
    assert tiny.is_tiny and "noise" in tiny.description.lower()
    assert all("noise" in text.lower() for model_id, text in list_models() if model_id == "tiny-random")
    hub = resolve_model_id("sd3-medium")
    assert (hub.kind, hub.repo_id) == ("hub", "stabilityai/stable-diffusion-3-medium-diffusers")
    assert resolve_model_id("someone/their-sd3-finetune").repo_id == "someone/their-sd3-finetune"


def test_registry_local_dirs(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")
    assert resolve_model_id(str(tmp_path)).kind == "local"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match="no model_index.json"):
        resolve_model_id(str(empty))
    with pytest.raises(BadRequestError, match="Unknown model 'sd4-ultra'"):
        resolve_model_id("sd4-ultra")


def test_importing_the_generation_modules_stays_light():
    import subprocess
    import sys

    from tests.conftest import REPO

    code = (
        "import sys, core.generation.request, core.models, core.models.engine, core.export.timelapse, "
        "core.export.image_files, core.generation.prompts, "
        "core.commands.generate, core.commands.timelapse, core.commands.download; "
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers', 'peft', 'huggingface_hub', 'imageio', "
        "'rasterio') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
