"""AeroGen's published checkpoint (an LDM Lightning state dict, the user's own download) as our `AeroGenUNet`
folder and `BoxEncoder` file.

Key layout (facts read from the public repositories, none of their code used): `model.diffusion_model.*` is SD
1.5's LDM UNet with `to_k_control` / `to_v_control` beside the key / value projections of every attention and a
`maskcrossattention.*` block (norm1..3, proj_in, crossattn.to_q / to_k / to_v / to_out.0, a GEGLU feed-forward
ffn.net.0.proj / ffn.net.2, proj_out); `condition_tokenizer.*` is the box encoder (linears.0 / .2 / .4,
null_text_feature, null_position_feature). `first_stage_model.*` and `cond_stage_model.*` are SD 1.5's own VAE
and CLIP text encoder, which the SD 1.5 mirror supplies: they are not converted. diffusers' LDM converter maps the
UNet (the extra projections keep their names inside the renamed attention blocks); the two small parts are
renamed here. Every part is loaded strictly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

UNET_PREFIX = "model.diffusion_model."
MASK_PREFIX = UNET_PREFIX + "maskcrossattention."
BOX_PREFIX = "condition_tokenizer."
# original name -> ours, for the mask cross-attention (`mask_attention.` in AeroGenUNet) and the box encoder
MASK_NAMES = {
    "crossattn.to_q.": "to_q.", "crossattn.to_k.": "to_k.", "crossattn.to_v.": "to_v.",
    "crossattn.to_out.0.": "to_out.", "ffn.net.0.proj.": "ff_in.", "ffn.net.2.": "ff_out.",
}  # fmt: skip
BOX_NAMES = {"null_text_feature": "null_positive_feature"}
BOX_ENCODER_FILE = "box_encoder.safetensors"  # beside the converted unet/ folder
AEROGEN_FIX = "Give the AeroGen checkpoint itself (Hub Sonetto702/AeroGen, aerogen_diorr_last.ckpt)."


def _renamed(name: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        if name.startswith(old):
            return new + name[len(old) :]
    return name


def convert_aerogen_checkpoint(state: dict[str, Any], unet_config: dict) -> dict[str, dict[str, Any]]:
    """{"unet": AeroGenUNet state dict, "box_encoder": BoxEncoder state dict} from the LDM one."""
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint

    stock = {k: v for k, v in state.items() if k.startswith(UNET_PREFIX) and not k.startswith(MASK_PREFIX)}
    unet = convert_ldm_unet_checkpoint(stock, unet_config)
    for key, value in state.items():
        if key.startswith(MASK_PREFIX):
            unet["mask_attention." + _renamed(key.removeprefix(MASK_PREFIX), MASK_NAMES)] = value
    box = {_renamed(k.removeprefix(BOX_PREFIX), BOX_NAMES): v for k, v in state.items() if k.startswith(BOX_PREFIX)}
    return {"unet": unet, "box_encoder": box}


def write_converted_aerogen(ckpt: Path, folder: Path, unet_config: dict | None = None,
                            encoder_sizes: dict | None = None) -> Path:  # fmt: skip
    """Convert `ckpt` into folder/unet (AeroGenUNet, diffusers layout) and folder/box_encoder.safetensors.

    `unet_config` / `encoder_sizes` default to the published model's (SD 1.5; tests use toy sizes).
    """
    import torch
    from safetensors.torch import save_file

    from core.models.backends.aerogen_unet import SD15_UNET, AeroGenUNet, BoxEncoder
    from core.models.backends.zoomldm_convert import load_strict

    # a Lightning checkpoint of the user's choosing holds non-tensor objects: full unpickling is needed
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    state = state.get("state_dict", state)
    with torch.device("meta"):
        unet, encoder = AeroGenUNet(**(unet_config or SD15_UNET)), BoxEncoder(**(encoder_sizes or {}))
    parts = convert_aerogen_checkpoint(state, dict(unet.config))
    load_strict(unet, parts["unet"], "UNet", model="AeroGen", fix=AEROGEN_FIX).save_pretrained(folder / "unet")
    load_strict(encoder, parts["box_encoder"], "box encoder", model="AeroGen", fix=AEROGEN_FIX)
    save_file({k: v.contiguous() for k, v in parts["box_encoder"].items()}, str(folder / BOX_ENCODER_FILE))
    return folder
