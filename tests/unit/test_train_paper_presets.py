"""The paper presets: one optimizer step each on the tiny model, with the original's trainable sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.train import load_train_config, train
from core.train.adapters import set_full_trainable
from tests.conftest import ECOMAPPER_EXAMPLE, SHARED_FIXTURES, require_shared
from tests.support import original_ecomapper_outputs as outputs

PRESETS = Path(__file__).resolve().parents[2] / "assets" / "presets"
PAPER = ("lora_paper", "controlnet_paper", "controlnet_lora_paper", "full_paper", "full_paper_hr")


def _tiny(name: str, tmp_path: Path, **extra):
    """The preset with only what a CPU and the tiny model need changed (size, precision, length)."""
    data_dir = require_shared(ECOMAPPER_EXAMPLE) / "2017-2018"
    config = load_train_config(PRESETS / f"train_{name}.toml", check_paths=False)
    changes = dict(
        base_model="tiny-random",
        output_dir=str(tmp_path / name),
        mixed_precision="no",
        cache_latents=False,
        data__data_dir=str(data_dir),
        data__resolution_px=64,
        data__max_sequence_length=128,
        data__num_workers=0,
        optim__batch_size=1,
        optim__gradient_accumulation_steps=1,
        optim__max_steps=1,
        optim__gradient_checkpointing=False,
        lora__rank=4,
        lora__alpha=4.0,
        controlnet__num_layers=1,
        validation__every_steps=0,
        checkpoints__every_steps=0,
        checkpoints__resume="none",
    )
    changes.update(extra)
    return config, config.with_overrides(**changes)


def _summary(result) -> dict:
    return json.loads((result.output_dir / "train_summary.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", PAPER)
def test_one_step_of_each_paper_preset_trains_the_originals_parameters(name, tmp_path, settings):
    extra = {}
    if name == "controlnet_lora_paper":
        # starts from the original train_lora.py output, as the original script requires
        extra["lora__init_weights"] = str(outputs.write_train_lora_output(tmp_path / "lora_run").parent)
    paper, config = _tiny(name, tmp_path, **extra)
    # what the preset says, as the original scripts
    assert paper.optim.learning_rate == 2e-6 and paper.optim.adam_weight_decay == 1e-2
    assert paper.optim.prediction_target == "x0" and paper.mixed_precision == "fp16"
    assert paper.data.caption_preset == "skip_date_location"
    result = train(config, settings.with_(device="cpu"))
    assert result.final_step == 1 and np.isfinite(result.losses[0][1])
    names = set(_summary(result)["trainable_parameters"])
    assert names
    if name == "lora_paper":
        assert paper.optim.batch_size * paper.optim.gradient_accumulation_steps == 32
        assert paper.data.vae_shift is False
        full = {n for n in names if "lora_" not in n}
        assert full == {"norm_out.linear.weight", "norm_out.linear.bias", "proj_out.weight", "proj_out.bias"}
        assert all(n.split(".")[-3] in ("lora_A", "lora_B") for n in names - full)
        assert (result.weights_dir / "transformer_full_weights.safetensors").is_file()
    elif name in ("controlnet_paper", "controlnet_lora_paper"):
        assert paper.optim.batch_size * paper.optim.gradient_accumulation_steps == 16
        assert paper.optim.num_epochs == 2 and paper.controlnet.control_range == "0-1"
        assert paper.controlnet.num_layers == 12 and paper.data.control_caption == "control"
        assert any(n.startswith("controlnet_blocks.") for n in names)
        assert any(n.startswith("pos_embed_input.") for n in names)
        assert any("lora_" in n for n in names) is (name == "controlnet_lora_paper")
        assert json.loads((result.weights_dir / "control_range.json").read_text()) == {"control_range": "0-1"}
    else:
        assert paper.data.vae_shift is False
        assert paper.data.resolution_px == (1024 if name == "full_paper_hr" else 512)
        # the evaluated SD3-FT: "large", the first 8 blocks frozen (the tiny model has 2: both frozen)
        assert paper.full.blocks == "large" and paper.data.shuffle is False
        assert not any(n.startswith(("transformer_blocks.0.", "pos_embed.")) for n in names)
        assert any(n.startswith("time_text_embed.") for n in names)
        assert (result.weights_dir / "config.json").is_file()


@pytest.mark.slow
def test_trained_weights_load_through_core_models(tmp_path, settings):
    from core.models import ModelSpec, load_pipeline

    _, config = _tiny("full_paper", tmp_path)
    result = train(config, settings.with_(device="cpu"))
    loaded = load_pipeline(
        ModelSpec("tiny-random", transformer=str(result.weights_dir), device="cpu", dtype="float32"), settings
    )
    assert loaded.origins["transformer"] == "path"
    _, config = _tiny("lora_paper", tmp_path)
    lora = train(config, settings.with_(device="cpu"))
    tuned = load_pipeline(ModelSpec("tiny-random", lora=str(lora.weights_dir), device="cpu", dtype="float32"), settings)
    from safetensors.torch import load_file

    full = load_file(str(lora.weights_dir / "transformer_full_weights.safetensors"))
    assert np.allclose(tuned.pipe.transformer.proj_out.weight.detach().numpy(), full["proj_out.weight"].numpy())


@pytest.mark.parametrize(("blocks", "frozen"), [("all", 0), ("full", 0), ("large", 8), ("medium", 12), ("small", 17)])
def test_block_freezing_on_the_real_sd3_medium_architecture(blocks, frozen):
    import torch
    from diffusers import SD3Transformer2DModel

    folder = require_shared(SHARED_FIXTURES / "hub-configs" / "stabilityai--stable-diffusion-3-medium-diffusers")
    config = SD3Transformer2DModel.load_config(folder / "transformer")
    with torch.device("meta"):
        transformer = SD3Transformer2DModel.from_config(config)
    assert len(transformer.transformer_blocks) == 24
    set_full_trainable(transformer, blocks)
    for index, block in enumerate(transformer.transformer_blocks):
        assert all(p.requires_grad is (index >= frozen) for p in block.parameters()), index
    for name in ("time_text_embed", "context_embedder", "norm_out", "proj_out"):
        assert all(p.requires_grad for p in getattr(transformer, name).parameters())
    assert all(p.requires_grad is (blocks == "all") for p in transformer.pos_embed.parameters())
    trainable = sum(p.numel() for p in transformer.parameters() if p.requires_grad)
    # train.py's comment: full / large / medium / small ~ 2 / 1.5 / 1 / 0.5 billion trainable parameters
    expected_billions = {"all": 2.0, "full": 2.0, "large": 1.4, "medium": 1.0, "small": 0.6}[blocks]
    assert abs(trainable / 1e9 - expected_billions) < 0.25


def test_the_x0_loss_is_the_originals_preconditioned_form():
    import torch

    from core.train.flow_matching import NoisedBatch, flow_matching_loss

    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(2, 4, 8, 8, generator=generator)
    noise = torch.randn(2, 4, 8, 8, generator=generator)
    sigmas = torch.tensor([0.3, 0.8]).view(2, 1, 1, 1)
    noisy = (1 - sigmas) * latents + sigmas * noise
    prediction = torch.randn(2, 4, 8, 8, generator=generator)
    noised = NoisedBatch(noisy, torch.tensor([300.0, 800.0]), sigmas, noise - latents, latents)
    x0 = flow_matching_loss(prediction, noised, "logit_normal", "x0")
    # the original: model_pred * (-sigmas) + noisy_model_input against model_input
    expected = ((prediction * (-sigmas) + noisy - latents) ** 2).reshape(2, -1).mean(1).mean()
    assert torch.allclose(x0, expected)
    velocity = flow_matching_loss(prediction, noised, "logit_normal", "velocity")
    assert torch.allclose(velocity, ((prediction - (noise - latents)) ** 2).reshape(2, -1).mean(1).mean())
    # the same optimum, weighted by sigma^2 per sample
    per_sample = ((prediction - (noise - latents)) ** 2).reshape(2, -1).mean(1)
    assert torch.allclose(x0, (per_sample * sigmas.flatten() ** 2).mean())
