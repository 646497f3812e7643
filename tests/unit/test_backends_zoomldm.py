"""ZoomLDM: the real parts' sizes, the published checkpoint's conversion, and the tiny variant on the one path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import BadRequestError, ModelUnavailableError
from core.generation.request import GenerationRequest
from core.geo import Point
from core.models.backends import check_available, load_backend
from core.models.backends.zoomldm import feature_grid
from core.models.backends.zoomldm_convert import convert_zoomldm_checkpoint, load_strict
from core.models.backends.zoomldm_net import NAIP_SUMMARIZER, NAIP_UNET, NAIP_VQ, build_summarizer
from tests.support.ldm_state_dicts import ldm_unet_shapes, ldm_vq_shapes, random_state

SAHARA = Point(24.8, -11.4)
NAIP_LDM_UNET = dict(model_channels=192, channel_mult=(1, 2, 3, 5), attention_ds=(8, 4, 2), context_dim=512)
NAIP_LDM_VQ = dict(ch=128, ch_mult=(1, 2, 4), z_channels=3, n_embed=8192)


def _scene(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def _request(**changes) -> GenerationRequest:
    fields = dict(
        point=SAHARA,
        month="2020-02",
        land_cover="Barren or Sparsely Vegetated",
        size_px=64,
        num_inference_steps=2,
        guidance_scale=2.0,
        seed=1,
        country="Morocco",
        reference_image=_scene(),
    )
    return GenerationRequest(**{**fields, **changes})


def _meta_parts():
    import torch
    from diffusers import UNet2DConditionModel, VQModel

    with torch.device("meta"):
        return UNet2DConditionModel(**NAIP_UNET), VQModel(**NAIP_VQ), build_summarizer(**NAIP_SUMMARIZER)


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_naip_parts_have_the_published_sizes():
    unet, vq, summarizer = _meta_parts()
    assert (_count(unet), _count(vq), _count(summarizer)) == (400_920_579, 55_322_782, 38_653_952)
    assert len(unet.state_dict()) == 688  # the original UNetModel's tensor count
    # the original layouts written from the LDM modules have the same sizes
    ldm_unet = ldm_unet_shapes(**NAIP_LDM_UNET)
    assert len(ldm_unet) == 688 and sum(math.prod(s) for s in ldm_unet.values()) == 400_920_579
    assert sum(math.prod(s) for s in ldm_vq_shapes(**NAIP_LDM_VQ).values()) == 55_322_782


def _naip_checkpoint(device: str = "meta") -> dict:
    """The published checkpoint's layout: UNet, its EMA (dots stripped), VQ, summarizer; no values on meta."""
    import torch

    def empty(shapes: dict, prefix: str) -> dict:
        return {prefix + k: torch.empty(s, device=device) for k, s in shapes.items()}

    unet = ldm_unet_shapes(**NAIP_LDM_UNET)
    ema = {
        "model_ema." + ("diffusion_model." + k).replace(".", ""): torch.empty(s, device=device) for k, s in unet.items()
    }
    summarizer = {k: tuple(v.shape) for k, v in _meta_parts()[2].state_dict().items()}
    return {
        **empty(unet, "model.diffusion_model."),
        **ema,
        **empty(ldm_vq_shapes(**NAIP_LDM_VQ), "first_stage_model."),
        **empty(summarizer, "cond_stage_model."),
    }


def test_the_published_checkpoint_layout_converts_key_for_key_and_shape_for_shape():
    unet, vq, summarizer = _meta_parts()
    parts = convert_zoomldm_checkpoint(_naip_checkpoint(), dict(unet.config), dict(vq.config))
    # load_strict refuses any missing, unexpected or mis-shaped key
    load_strict(unet, parts["unet"], "UNet")
    load_strict(vq, parts["vqvae"], "VQ autoencoder")
    load_strict(summarizer, parts["summarizer"], "summarizer")
    assert len(parts["unet"]) == 688 and "quantize.embedding.weight" in parts["vqvae"]


TOY_UNET = dict(
    sample_size=8,
    in_channels=3,
    out_channels=3,
    block_out_channels=(16, 32),
    layers_per_block=2,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(16, 32),
    cross_attention_dim=16,
    norm_num_groups=8,
)
TOY_VQ = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=(8, 8, 8), layers_per_block=2, latent_channels=3,
    num_vq_embeddings=32, vq_embed_dim=3, norm_num_groups=4,
)  # fmt: skip
TOY_SUMMARIZER = dict(input_channels=16, hidden_channels=16, mlp_dim=32, num_layers=2, num_heads=2,
                      output_channels=16, zoom_levels=4)  # fmt: skip


def _toy_checkpoint() -> dict:
    """A toy ZoomLDM checkpoint in the published layout (UNet, EMA with different values, VQ, summarizer)."""
    shapes = ldm_unet_shapes(model_channels=16, channel_mult=(1, 2), attention_ds=(2,), context_dim=16)
    ema = random_state(shapes, seed=2)
    summarizer = build_summarizer(**TOY_SUMMARIZER).state_dict()
    return {
        **random_state(shapes, "model.diffusion_model.", seed=1),
        **{"model_ema." + ("diffusion_model." + k).replace(".", ""): v for k, v in ema.items()},
        **random_state(ldm_vq_shapes(ch=8, ch_mult=(1, 1, 1), z_channels=3, n_embed=32), "first_stage_model."),
        **{"cond_stage_model." + k: v.clone() for k, v in summarizer.items()},
    }


def test_conversion_takes_the_ema_weights_and_refuses_a_mismatch():
    import torch
    from diffusers import UNet2DConditionModel

    state = _toy_checkpoint()
    unet = UNet2DConditionModel(**TOY_UNET)
    vq_config = dict(down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3)
    parts = convert_zoomldm_checkpoint(state, dict(unet.config), vq_config)
    load_strict(unet, parts["unet"], "UNet")
    ema_conv_in = state["model_ema.diffusion_modelinput_blocks00weight"]
    assert torch.equal(unet.conv_in.weight, ema_conv_in)
    assert not torch.equal(unet.conv_in.weight, state["model.diffusion_model.input_blocks.0.0.weight"])
    attn_k = state["model_ema.diffusion_modeloutput_blocks11transformer_blocks0attn2to_kweight"]
    assert torch.equal(unet.up_blocks[0].attentions[1].transformer_blocks[0].attn2.to_k.weight, attn_k)
    with pytest.raises(ModelUnavailableError, match="missing"):
        load_strict(unet, {k: v for k, v in parts["unet"].items() if k != "conv_in.bias"}, "UNet")
    no_ema = {k: v for k, v in state.items() if not k.startswith("model_ema.")}
    with pytest.raises(ModelUnavailableError, match="no EMA"):
        convert_zoomldm_checkpoint(no_ema, dict(unet.config), vq_config)


def test_a_checkpoint_file_becomes_diffusers_folders_that_load_back(tmp_path, settings):
    import torch

    from core.models.backends.zoomldm import build_tiny_dino
    from core.models.backends.zoomldm_convert import load_converted

    state = _toy_checkpoint()
    (tmp_path / "naip").mkdir()
    torch.save({"state_dict": state}, tmp_path / "naip" / "weights.ckpt")  # a Lightning-style file
    build_tiny_dino().save_pretrained(tmp_path / "dino")  # the DINOv2 folder, so no Hub look-up
    configs = {"unet": TOY_UNET, "vq": TOY_VQ, "summarizer": TOY_SUMMARIZER}
    unet, vq, summarizer, dino = load_converted(tmp_path, settings, configs)
    assert (tmp_path / "unet" / "config.json").is_file() and (tmp_path / "vqvae" / "config.json").is_file()
    assert torch.equal(unet.conv_in.weight, state["model_ema.diffusion_modelinput_blocks00weight"])
    assert torch.equal(vq.quantize.embedding.weight, state["first_stage_model.quantize.embedding.weight"])
    assert torch.equal(summarizer.pad_token, state["cond_stage_model.pad_token"])
    assert dino.config.hidden_size == 16
    # once converted, the folders load without the checkpoint
    (tmp_path / "naip" / "weights.ckpt").unlink()
    again = load_converted(tmp_path, settings, configs)[0]
    assert torch.equal(again.conv_in.weight, unet.conv_in.weight)


def test_the_summarizer_centres_small_grids_among_pad_tokens():
    import torch

    summarizer = build_summarizer(
        input_channels=4, hidden_channels=8, mlp_dim=16, num_layers=1, num_heads=2, output_channels=8, zoom_levels=4
    ).eval()
    with torch.no_grad():
        one = summarizer.tokens(torch.ones(4, 1, 1))
        four = summarizer.tokens(torch.ones(4, 2, 2))
        context = summarizer([torch.ones(4, 2, 2)], torch.tensor([1]))
    pad = summarizer.pad_token[0, 0]
    assert torch.equal(one[31], pad) and not torch.equal(one[32], pad) and torch.equal(one[33], pad)
    assert [i for i in range(64) if not torch.equal(four[i], pad)] == [30, 31, 32, 33]
    assert context.shape == (1, 65, 8)


@pytest.fixture(scope="module")
def tiny():
    from core.config import Settings

    return load_backend("tiny-zoomldm", Settings())


def test_dinov2_features_are_per_cell_and_standardised(tiny):
    grid = feature_grid(_scene(), 2, tiny.pipe.dino)
    assert tuple(grid.shape) == (16, 4, 4)  # tiny DINOv2 is 16 wide; zoom level 2 = a 4 x 4 grid
    np.testing.assert_allclose(grid.mean(dim=0).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(grid.std(dim=0).numpy(), 1.0, atol=1e-3)


def test_tiny_zoomldm_draws_from_the_real_scene(tiny):
    first = tiny.generate(_request())
    assert first.image.shape == (32, 32, 3) and first.image.dtype == np.uint8
    np.testing.assert_array_equal(first.image, tiny.generate(_request()).image)
    assert not np.array_equal(first.image, tiny.generate(_request(reference_image=_scene(1))).image)
    # guidance 0 is the all-zero context alone: the scene's features are what guidance adds
    assert not np.array_equal(first.image, tiny.generate(_request(guidance_scale=0.0)).image)
    assert first.conditioning["zoom_level"] == 3 and first.conditioning["feature_grid"] == "8 x 8"
    assert first.ignored == ("land cover and place names (no text prompt)",)
    with pytest.raises(BadRequestError, match="needs the real image"):
        tiny.generate(_request(reference_image=None))


def test_generate_fetches_the_real_scene_of_the_month(tiny, data_settings):
    from core.models.spec import ModelSpec
    from core.services import generate

    request = _request(reference_image=None, model=ModelSpec("tiny-zoomldm"))
    result = generate(request, data_settings, engine=tiny)
    assert result.request.reference_image is not None and result.request.reference_image.std() > 0
    assert result.image.shape == (32, 32, 3)


def test_missing_weights_are_refused_in_one_line(settings):
    status = check_available("zoomldm", settings)
    assert not status.available and "python -m core download --model zoomldm" in status.detail
    with pytest.raises(ModelUnavailableError, match="ZoomLDM could not be loaded"):
        load_backend("zoomldm", settings)
