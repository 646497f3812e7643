"""Proofs on the real architectures: SD3 Medium, SD3.5 Large and the InstantX ControlNets built from
their real Hub configs on the meta device (no weights), and the exact Hub folder layout loading."""

from __future__ import annotations

import json
import shutil

import pytest

from core.errors import ModelUnavailableError
from core.models.architectures import (
    build_empty_controlnet,
    build_empty_part,
    parameter_count,
    pipeline_parameter_counts,
)
from core.models.memory_table import MemoryOption, estimate_memory, part_weight_bytes
from core.models.registry import CONTROLNETS, KNOWN_MODELS
from tests.conftest import SHARED_FIXTURES, require_shared

HUB_CONFIGS = SHARED_FIXTURES / "hub-configs"
SD3_MEDIUM = HUB_CONFIGS / "stabilityai--stable-diffusion-3-medium-diffusers"
SD35_LARGE = HUB_CONFIGS / "stabilityai--stable-diffusion-3.5-large"
INSTANTX = {"instantx-tile": "InstantX--SD3-Controlnet-Tile", "instantx-canny": "InstantX--SD3-Controlnet-Canny"}


@pytest.fixture(scope="module")
def sd3_medium_transformer():
    return build_empty_part(require_shared(SD3_MEDIUM), "transformer")


@pytest.mark.slow
def test_sd3_medium_parts_match_the_published_and_registered_counts():
    counts = pipeline_parameter_counts(require_shared(SD3_MEDIUM))
    assert counts["transformer"] == 2_028_328_000  # published with the fixture (SOURCES.md)
    assert counts == KNOWN_MODELS["sd3-medium"].part_parameters()
    # the T5-XXL encoder is the largest part, which is why --no-t5 and offload matter
    assert max(counts, key=counts.get) == "text_encoder_3"


def test_sd3_medium_transformer_is_built_without_weights(sd3_medium_transformer):
    params = list(sd3_medium_transformer.parameters())
    assert all(p.device.type == "meta" for p in params)
    assert len(sd3_medium_transformer.transformer_blocks) == 24
    # 4.17 GB on the Hub = the parameters in fp16 plus the persisted 192x192x1536 position table
    pos_embed = sd3_medium_transformer.pos_embed.pos_embed
    assert tuple(pos_embed.shape) == (1, 192 * 192, 1536)
    assert (2_028_328_000 + pos_embed.numel()) * 2 == pytest.approx(4.17e9, rel=0.005)


@pytest.fixture(scope="module")
def sd35_large_transformer():
    return build_empty_part(require_shared(SD35_LARGE), "transformer")


@pytest.mark.slow
def test_sd35_large_differs_as_registered(sd35_large_transformer):
    transformer = sd35_large_transformer
    assert parameter_count(transformer) == KNOWN_MODELS["sd3.5-large"].transformer_parameters == 8_056_627_520
    assert len(transformer.transformer_blocks) == 38
    attention = transformer.transformer_blocks[0].attn
    assert type(attention.norm_q).__name__ == "RMSNorm"  # qk_norm, absent from SD3 Medium
    assert transformer.config.num_attention_heads * transformer.config.attention_head_dim == 2432
    # the text encoders and the VAE are the SD3 Medium ones
    for part in ("vae", "text_encoder", "text_encoder_2", "text_encoder_3"):
        assert parameter_count(build_empty_part(SD35_LARGE, part)) == KNOWN_MODELS["sd3-medium"].part_parameters()[part]


@pytest.mark.slow
@pytest.mark.parametrize("controlnet_id", sorted(INSTANTX))
def test_instantx_controlnets_fit_sd3_medium_only(controlnet_id, sd3_medium_transformer, sd35_large_transformer):
    from core.models.loading import check_controlnet_fits

    known = CONTROLNETS[controlnet_id]
    controlnet = build_empty_controlnet(require_shared(HUB_CONFIGS / INSTANTX[controlnet_id]))
    assert type(controlnet).__name__ == "SD3ControlNetModel"
    assert len(controlnet.transformer_blocks) == known.num_layers == 6
    assert parameter_count(controlnet) == known.parameters
    assert round(known.parameters / 1e6, 1) == 538.8
    assert known.base_model == "sd3-medium"
    check_controlnet_fits(controlnet, sd3_medium_transformer)  # no error
    with pytest.raises(ModelUnavailableError, match="does not fit"):
        check_controlnet_fits(controlnet, sd35_large_transformer)


def test_memory_estimate_from_the_real_counts():
    model = KNOWN_MODELS["sd3-medium"]
    activations = {"transformer": 300 * 2**20, "vae": 900 * 2**20}
    weights = part_weight_bytes(model, "bfloat16")
    pos_embed = 192 * 192 * 1536
    assert sum(weights.values()) == (sum(model.part_parameters().values()) + pos_embed) * 2

    default = estimate_memory(model, MemoryOption("bfloat16"), activations)
    assert default.weights_on_gpu == sum(weights.values())
    assert default.peak_gpu == default.weights_on_gpu + 900 * 2**20  # the larger activation peak
    no_t5 = estimate_memory(model, MemoryOption("bfloat16", drop_t5=True), activations)
    assert default.weights_on_gpu - no_t5.weights_on_gpu == 4_893_906_944 * 2
    offload = estimate_memory(model, MemoryOption("bfloat16", cpu_offload=True), activations)
    assert offload.weights_on_gpu == weights["text_encoder_3"]  # T5 is the largest part
    assert offload.host_ram == sum(weights.values())
    offload_no_t5 = estimate_memory(model, MemoryOption("bfloat16", True, True), activations)
    assert offload_no_t5.weights_on_gpu == weights["transformer"]
    assert offload_no_t5.peak_gpu == weights["transformer"] + 300 * 2**20
    fp32 = estimate_memory(model, MemoryOption("float32"), activations)
    assert fp32.peak_gpu == 2 * default.peak_gpu


def _write_hub_layout(source, target, tiny_pipe):
    """The exact Hub folder layout (real model_index.json, part folders, sharded T5) with tiny weights."""
    tiny_pipe.save_pretrained(target)
    shutil.copyfile(source / "model_index.json", target / "model_index.json")
    shutil.rmtree(target / "text_encoder_3")
    tiny_pipe.text_encoder_3.save_pretrained(target / "text_encoder_3", max_shard_size="40KB")
    return target


def test_loader_accepts_the_exact_hub_layout(tmp_path, settings):
    from core.models.loading import load_pipeline
    from core.models.spec import ModelSpec
    from core.models.tiny import build_tiny_pipeline

    source = require_shared(SD3_MEDIUM)
    folder = _write_hub_layout(source, tmp_path / "stable-diffusion-3-medium-diffusers", build_tiny_pipeline(seed=0))
    assert json.loads((folder / "model_index.json").read_text())["tokenizer_3"] == ["transformers", "T5TokenizerFast"]
    shards = sorted(p.name for p in (folder / "text_encoder_3").glob("model-*.safetensors"))
    assert len(shards) >= 2 and (folder / "text_encoder_3" / "model.safetensors.index.json").is_file()
    # the real subfolders, no more, no less
    assert {p.name for p in folder.iterdir() if p.is_dir()} == {p.name for p in source.iterdir() if p.is_dir()}

    loaded = load_pipeline(ModelSpec(model_id=str(folder)), settings)
    assert loaded.origins["model"] == "path" and loaded.has_t5
    assert type(loaded.pipe).__name__ == "StableDiffusion3Pipeline"
    assert type(loaded.pipe.tokenizer_3).__name__.startswith("T5Tokenizer")


def test_loader_accepts_an_instantx_style_controlnet_folder(tmp_path, settings):
    """A ControlNet repository is config.json + diffusion_pytorch_model.safetensors at the top; the
    Canny one names its class "ControlNetSD3Model" (a pre-release diffusers name)."""
    from core.models.loading import load_pipeline
    from core.models.spec import ModelSpec
    from core.models.tiny import build_controlnet_from_transformer, build_tiny_transformer

    real_config = json.loads((require_shared(HUB_CONFIGS / INSTANTX["instantx-canny"]) / "config.json").read_text())
    folder = tmp_path / "SD3-Controlnet-Canny"
    build_controlnet_from_transformer(build_tiny_transformer(4)).save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["_class_name"] = real_config["_class_name"]
    (folder / "config.json").write_text(json.dumps(config))
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]

    loaded = load_pipeline(ModelSpec(model_id="tiny-random", controlnet=str(folder)), settings)
    assert loaded.origins["controlnet"] == "path" and loaded.has_controlnet


def test_download_patterns_take_the_diffusers_parts_and_skip_single_file_checkpoints():
    from huggingface_hub.utils import filter_repo_objects

    from core.models.checkpoints import PIPELINE_PATTERNS, T5_PATTERNS

    # file names as listed on the Hub for stabilityai/stable-diffusion-3-medium-diffusers (SOURCES.md)
    listing = [
        ".gitattributes",
        "README.md",
        "model_index.json",
        "sd3_medium_incl_clips_t5xxlfp8.safetensors",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "text_encoder_2/config.json",
        "text_encoder_2/model.safetensors",
        "text_encoder_3/config.json",
        "text_encoder_3/model-00001-of-00002.safetensors",
        "text_encoder_3/model-00002-of-00002.safetensors",
        "text_encoder_3/model.safetensors.index.json",
        "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json",
        "tokenizer/tokenizer_config.json",
        "tokenizer/vocab.json",
        "tokenizer_3/spiece.model",
        "tokenizer_3/tokenizer.json",
        "transformer/config.json",
        "transformer/diffusion_pytorch_model.safetensors",
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ]
    taken = set(filter_repo_objects(listing, allow_patterns=list(PIPELINE_PATTERNS)))
    assert taken == set(listing) - {".gitattributes", "README.md", "sd3_medium_incl_clips_t5xxlfp8.safetensors"}
    without_t5 = set(filter_repo_objects(listing, allow_patterns=list(PIPELINE_PATTERNS), ignore_patterns=T5_PATTERNS))
    assert not any(name.startswith(("text_encoder_3/", "tokenizer_3/")) for name in without_t5)
