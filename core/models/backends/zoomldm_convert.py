"""ZoomLDM's published checkpoint (an LDM Lightning state dict) as diffusers folders, and loading them back.

`naip/weights.ckpt` holds `model.diffusion_model.*` (UNet), `model_ema.*` (its EMA, dots stripped),
`first_stage_model.*` (VQ-f4) and `cond_stage_model.*` (the summarizer). The UNet takes the EMA
weights (what the original samples with, `model.ema_scope()`); diffusers' own LDM converters map
the UNet and the autoencoder; the summarizer keeps its names. Every part is loaded strictly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import Settings
from core.errors import ModelUnavailableError

CKPT_NAME = "weights.ckpt"
SUMMARIZER_FILE = "summarizer.safetensors"


def convert_zoomldm_checkpoint(state: dict[str, Any], unet_config: dict, vq_config: dict, ema: bool = True) -> dict:
    """{"unet": ..., "vqvae": ..., "summarizer": ...} diffusers / plain-torch state dicts from the LDM one.

    Raises:
        ModelUnavailableError: EMA asked for and the checkpoint has none.
    """
    from diffusers.loaders.single_file_utils import convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint

    if ema and sum(k.startswith("model_ema.") for k in state) <= 100:
        raise ModelUnavailableError(
            "The ZoomLDM checkpoint has no EMA weights (model_ema.*).", "Use the published naip/weights.ckpt."
        )
    unet = convert_ldm_unet_checkpoint(state, unet_config, extract_ema=ema)
    first_stage = {k: v for k, v in state.items() if k.startswith("first_stage_model.")}
    vqvae = convert_ldm_vae_checkpoint(first_stage, vq_config)
    vqvae["quantize.embedding.weight"] = first_stage["first_stage_model.quantize.embedding.weight"]
    prefix = "cond_stage_model."
    summarizer = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
    return {"unet": unet, "vqvae": vqvae, "summarizer": summarizer}


def load_strict(module, state: dict[str, Any], what: str, model: str = "ZoomLDM",
                fix: str = "Use the published StonyBrook-CVLab/ZoomLDM naip/weights.ckpt."):  # fmt: skip
    """`module` with `state` loaded: every key present, none extra, every shape equal (else `fix`)."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape))
    if missing or extra or wrong:
        raise ModelUnavailableError(
            f"The {model} {what} does not match: {len(missing)} missing, {len(extra)} unexpected, {len(wrong)} "
            f"mis-shaped keys (e.g. {(missing or extra or wrong)[0]}).",
            fix,
        )
    module.load_state_dict(state, strict=True, assign=True)
    return module.eval()


def write_converted(ckpt: Path, folder: Path, configs: dict | None = None) -> Path:
    """Convert `ckpt` into folder/unet, folder/vqvae (diffusers) and folder/summarizer.safetensors.

    `configs` ({"unet", "vq", "summarizer"}) default to the NAIP model's (tests use toy sizes).
    """
    import torch
    from diffusers import UNet2DConditionModel, VQModel
    from safetensors.torch import save_file

    from core.models.backends.zoomldm_net import build_summarizer

    configs = configs or naip_configs()
    # a Lightning checkpoint of the user's choosing holds non-tensor objects: full unpickling is needed
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    state = state.get("state_dict", state)
    with torch.device("meta"):
        unet, vq = UNet2DConditionModel(**configs["unet"]), VQModel(**configs["vq"])
        summarizer = build_summarizer(**configs["summarizer"])
    parts = convert_zoomldm_checkpoint(state, dict(unet.config), dict(vq.config))
    load_strict(unet, parts["unet"], "UNet").save_pretrained(folder / "unet")
    load_strict(vq, parts["vqvae"], "VQ autoencoder").save_pretrained(folder / "vqvae")
    load_strict(summarizer, parts["summarizer"], "summarizer")
    save_file({k: v.contiguous() for k, v in parts["summarizer"].items()}, str(folder / SUMMARIZER_FILE))
    return folder


def naip_configs() -> dict:
    from core.models.backends.zoomldm_net import NAIP_SUMMARIZER, NAIP_UNET, NAIP_VQ

    return {"unet": NAIP_UNET, "vq": NAIP_VQ, "summarizer": NAIP_SUMMARIZER}


def load_converted(folder: Path, settings: Settings, configs: dict | None = None):
    """(UNet, VQ model, summarizer, DINOv2) from folder, converting its weights.ckpt first when needed.

    DINOv2 comes from folder/dino/ when present, else the Hub cache (or the Hub).
    """
    from diffusers import UNet2DConditionModel, VQModel
    from safetensors.torch import load_file
    from transformers import Dinov2WithRegistersModel

    from core.models.backends.zoomldm_net import DINO_REPO, build_summarizer
    from core.models.checkpoints import resolve_weights

    configs = configs or naip_configs()
    if not (folder / "unet" / "config.json").is_file():
        ckpts = sorted(folder.glob(f"**/{CKPT_NAME}"))
        if not ckpts:
            raise FileNotFoundError(f"no unet/ folder and no {CKPT_NAME} in {folder}")
        write_converted(ckpts[-1], folder, configs)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet").eval()
    vq = VQModel.from_pretrained(folder / "vqvae").eval()
    weights = load_file(str(folder / SUMMARIZER_FILE))
    summarizer = load_strict(build_summarizer(**configs["summarizer"]), weights, "summarizer")
    dino_dir = folder / "dino" if (folder / "dino" / "config.json").is_file() else None
    if dino_dir is None:
        dino_dir = resolve_weights(DINO_REPO, settings, what="DINOv2", pipeline=False).path
    return unet, vq, summarizer, Dinov2WithRegistersModel.from_pretrained(dino_dir).eval()
