"""Files laid out exactly as the original EcoMapper scripts write them load and generate.

The files come from `tests/support/original_ecomapper_outputs.py` (the tiny model in place of
sd3-medium). Each test compares our converted load with the way the original itself loads the
same file (peft + `safetensors.load_model`, or plain diffusers).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import BadRequestError
from core.models import ModelSpec, load_pipeline
from core.models import original_formats as formats
from tests.support import original_ecomapper_outputs as outputs

PROMPT = "a satellite image of Croplands in Bavaria, Germany on July 2020."


def _generate(pipe, seed: int = 5, **kwargs) -> np.ndarray:
    import torch

    return pipe(
        prompt=PROMPT,
        num_inference_steps=2,
        height=32,
        width=32,
        guidance_scale=1.0,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
        **kwargs,
    ).images[0]


def _spec(**changes) -> ModelSpec:
    return ModelSpec("tiny-random", device="cpu", dtype="float32", **changes)


def test_original_lora_file_loads_like_the_original_loads_it(tmp_path, settings):
    from diffusers import StableDiffusion3Pipeline
    from safetensors.torch import load_file, load_model

    from core.models.tiny import build_tiny_transformer

    run = tmp_path / "lora_run"
    file = outputs.write_train_lora_output(run)
    assert formats.find_original_lora(run) == file
    loaded = load_pipeline(_spec(lora=str(run)), settings)
    ours = _generate(loaded.pipe)

    # the original's own loading (validate.py): peft adapter on the transformer, load_model of the file
    reference = build_tiny_transformer(seed=outputs.BASE_TRANSFORMER_SEED)
    reference.add_adapter(outputs._lora_config())
    load_model(reference, str(file))
    base = load_pipeline(_spec(), settings).pipe
    original_pipe = StableDiffusion3Pipeline(**{**base.components, "transformer": reference})
    expected = _generate(original_pipe)
    plain = _generate(base)
    assert np.abs(ours - expected).max() < 1e-4
    assert np.abs(ours - plain).max() > 1e-3  # the LoRA and the trained norm_out/proj_out matter

    state = load_file(str(file))
    assert np.allclose(loaded.pipe.transformer.proj_out.weight.detach().numpy(), state["proj_out.weight"].numpy())
    assert np.allclose(
        loaded.pipe.transformer.norm_out.linear.weight.detach().numpy(), state["norm_out.linear.weight"].numpy()
    )


def test_original_full_fine_tune_goes_on_top_of_the_base_model(tmp_path, settings):
    from core.models.tiny import build_tiny_transformer

    run = outputs.write_train_output(tmp_path / "full_run")
    index = json.loads((run / "model_index.json").read_text())
    assert index["text_encoder"] == [None, None] and index["tokenizer_3"] == [None, None]
    assert formats.is_null_encoder_folder(run)
    loaded = load_pipeline(_spec(transformer=str(run)), settings)
    tuned = loaded.pipe.transformer
    fresh = build_tiny_transformer(seed=outputs.BASE_TRANSFORMER_SEED)
    assert any(
        not np.allclose(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(tuned.parameters(), fresh.parameters(), strict=True)
    )
    from diffusers import SD3Transformer2DModel

    saved = SD3Transformer2DModel.from_pretrained(run / "transformer")
    for (name, a), b in zip(tuned.named_parameters(), saved.parameters(), strict=True):
        assert np.allclose(a.detach().numpy(), b.detach().numpy()), name
    image = _generate(loaded.pipe)
    assert image.shape == (32, 32, 3) and np.isfinite(image).all()
    assert np.abs(image - _generate(load_pipeline(_spec(), settings).pipe)).max() > 1e-3
    # --model FOLDER of such a run becomes sd3-medium + --transformer FOLDER
    mapped = formats.spec_for_null_encoder_folder(ModelSpec(str(run)))
    assert (mapped.model_id, mapped.transformer) == ("sd3-medium", str(run))


def test_a_transformer_of_another_shape_is_refused(tmp_path, settings):
    from diffusers import SD3Transformer2DModel

    from core.errors import ModelUnavailableError

    other = SD3Transformer2DModel(
        sample_size=32,
        patch_size=1,
        in_channels=4,
        num_layers=3,
        attention_head_dim=8,
        num_attention_heads=4,
        caption_projection_dim=32,
        joint_attention_dim=32,
        pooled_projection_dim=64,
        out_channels=4,
    )
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(ModelUnavailableError, match="does not fit"):
        load_pipeline(_spec(transformer=str(tmp_path / "other")), settings)


def _capture_control(pipe):
    captured = {}

    def grab(_module, args, kwargs):
        captured["cond"] = kwargs["controlnet_cond"].detach().clone()
        captured["pooled"] = kwargs["pooled_projections"].detach().clone()

    handle = pipe.controlnet.register_forward_pre_hook(grab, with_kwargs=True)
    return captured, handle


def test_original_controlnet_gets_the_control_image_in_0_1_without_the_shift(tmp_path, settings):
    import torch
    from PIL import Image

    run = outputs.write_train_controlnet_output(tmp_path / "controlnet_run")
    control = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
    loaded = load_pipeline(_spec(controlnet=str(run), control_range="0-1"), settings)
    pipe = loaded.pipeline_for("controlnet")
    captured, handle = _capture_control(pipe)
    torch.manual_seed(11)  # the pipeline samples the control latents from the global generator
    image = _generate(pipe, control_image=Image.fromarray(control))
    handle.remove()
    assert np.isfinite(image).all()

    vae = pipe.vae
    unit = torch.from_numpy(control).permute(2, 0, 1)[None].float() / 255.0  # the original's ToTensor()
    torch.manual_seed(11)
    expected = vae.encode(unit).latent_dist.sample() * vae.config.scaling_factor
    assert torch.allclose(captured["cond"], expected, atol=1e-5)
    assert captured["pooled"].abs().sum() > 0  # the real pooled projection, as trained

    # diffusers' convention gives other control latents
    default = load_pipeline(_spec(controlnet=str(run), control_range="-1-1"), settings).pipeline_for("controlnet")
    captured_default, handle = _capture_control(default)
    torch.manual_seed(11)
    _generate(default, control_image=Image.fromarray(control))
    handle.remove()
    assert not torch.allclose(captured_default["cond"], expected, atol=1e-3)


def test_original_controlnet_lora_file_is_merged_into_a_plain_controlnet(tmp_path, settings):
    from PIL import Image
    from safetensors.torch import load_file

    file = outputs.write_train_controlnet_lora_output(tmp_path / "controlnet_lora_run")
    run = file.parent
    assert formats.find_original_controlnet_lora(run) == file
    assert formats.resolve_control_range(_spec(controlnet=str(run)), settings) == "0-1"
    loaded = load_pipeline(_spec(controlnet=str(run)), settings)
    controlnet = loaded.controlnet_pipe.controlnet
    state = load_file(str(file))
    key = "transformer_blocks.0.attn.to_q"
    expected = (
        state[f"{key}.base_layer.weight"]
        + state[f"{key}.lora_B.default.weight"] @ state[f"{key}.lora_A.default.weight"]
    )
    assert np.allclose(controlnet.transformer_blocks[0].attn.to_q.weight.detach().numpy(), expected.numpy(), atol=1e-6)
    assert np.allclose(
        controlnet.controlnet_blocks[0].weight.detach().numpy(), state["controlnet_blocks.0.weight"].numpy()
    )
    control = Image.fromarray(np.full((32, 32, 3), 120, dtype=np.uint8))
    image = _generate(loaded.pipeline_for("controlnet"), control_image=control)
    assert image.shape == (32, 32, 3) and np.isfinite(image).all()


def test_our_controlnets_record_their_control_range(tmp_path, settings):
    run = outputs.write_train_controlnet_output(tmp_path / "ours")
    formats.write_control_range(run, "0-1")
    assert formats.resolve_control_range(_spec(controlnet=str(run)), settings) == "0-1"
    assert formats.resolve_control_range(_spec(controlnet=str(run), control_range="-1-1"), settings) == "-1-1"
    with pytest.raises(BadRequestError):
        _spec(control_range="0..1")
