"""AeroGen's published checkpoint layout -> our AeroGenUNet folder + box encoder file, on random weights built in
the original key layout (tests/support/ldm_state_dicts.py): every tensor lands once, unchanged, strictly loaded."""

from __future__ import annotations

import pytest
import torch

from core.errors import ModelUnavailableError
from core.models.backends.aerogen_convert import write_converted_aerogen
from tests.support.ldm_state_dicts import aerogen_extra_shapes, ldm_unet_shapes, random_state

# A toy AeroGen of SD 1.5's shape: 2 levels, attention at the first, 2 res blocks, context 32, mask inner 16.
UNET = dict(
    sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=4, mask_inner_dim=16, mask_heads=2,
)  # fmt: skip
ENCODER = dict(text_dim=32, out_dim=32, hidden=24)


def original_state(seed: int = 0) -> dict:
    unet = ldm_unet_shapes(32, (1, 2), {1}, 32, in_ch=4, out_ch=4, num_res_blocks=2, control=True)
    state = random_state(unet, prefix="model.diffusion_model.", seed=seed)
    state |= random_state(aerogen_extra_shapes(32, 16, 32, 32, 24, 32), seed=seed + 1)
    # the SD 1.5 VAE / text encoder ride along in the file; the SD 1.5 mirror supplies them, so they are skipped
    state["first_stage_model.decoder.conv_out.bias"] = torch.zeros(3)
    return state


def fingerprint(tensors) -> list[tuple[tuple[int, ...], float]]:
    return sorted((tuple(t.shape), round(float(t.double().sum()), 6)) for t in tensors)


def test_every_tensor_of_the_original_layout_lands_once_unchanged(tmp_path):
    from safetensors.torch import load_file

    from core.models.backends.aerogen_unet import AeroGenUNet

    state = original_state()
    torch.save({"state_dict": state, "global_step": 7}, tmp_path / "aerogen_diorr_last.ckpt")
    write_converted_aerogen(tmp_path / "aerogen_diorr_last.ckpt", tmp_path, UNET, ENCODER)
    unet = AeroGenUNet.from_pretrained(tmp_path / "unet")
    box = load_file(str(tmp_path / "box_encoder.safetensors"))
    ours = list(unet.state_dict().values()) + list(box.values())
    theirs = [v for k, v in state.items() if not k.startswith("first_stage_model.")]
    assert len(ours) == len(theirs) and fingerprint(ours) == fingerprint(theirs)
    block = unet.down_blocks[0].attentions[0].transformer_blocks[0]
    original = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k_control.weight"
    assert torch.equal(block.attn2.to_k_control.weight, state[original])
    mask = "model.diffusion_model.maskcrossattention."
    assert torch.equal(unet.mask_attention.to_out.weight, state[mask + "crossattn.to_out.0.weight"])
    assert torch.equal(unet.mask_attention.ff_in.weight, state[mask + "ffn.net.0.proj.weight"])
    assert torch.equal(box["null_positive_feature"], state["condition_tokenizer.null_text_feature"])


def test_a_checkpoint_of_another_shape_is_refused_in_one_line(tmp_path):
    state = original_state()
    del state["model.diffusion_model.maskcrossattention.proj_out.bias"]
    torch.save(state, tmp_path / "other.ckpt")
    with pytest.raises(ModelUnavailableError, match="AeroGen UNet does not match: 1 missing") as err:
        write_converted_aerogen(tmp_path / "other.ckpt", tmp_path, UNET, ENCODER)
    assert "Sonetto702/AeroGen" in err.value.fix and not (tmp_path / "unet").exists()
