"""The trainable part: a LoRA adapter on the SD3 transformer, or an SD3 ControlNet built from it.

Both are saved in the formats diffusers loads: LoRA through the SD3 LoRA loader
(`pytorch_lora_weights.safetensors`), ControlNet as a `save_pretrained` folder.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"
CONTROLNET_SUBDIR = "controlnet"


def add_lora(transformer: Any, lora: Any) -> None:
    """Attach a trainable LoRA adapter (peft) to the transformer's attention projections."""
    from peft import LoraConfig

    transformer.add_adapter(
        LoraConfig(
            r=lora.rank,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            init_lora_weights="gaussian",
            target_modules=list(lora.target_modules),
        )
    )


def check_lora_targets(transformer: Any, target_modules: tuple[str, ...]) -> None:
    """Raise BadRequestError for a target that names no module (peft ignores it when others match)."""
    import difflib

    from core.errors import BadRequestError

    names = [name for name, _ in transformer.named_modules() if name]
    leaves = sorted({name.rsplit(".", 1)[-1] for name in names} | {".".join(name.split(".")[-2:]) for name in names})
    unknown = [t for t in target_modules if not any(n == t or n.endswith("." + t) for n in names)]
    if unknown:
        close = difflib.get_close_matches(unknown[0], leaves, n=3)
        raise BadRequestError(
            f"Training config: [lora] target_modules {unknown} name no module of the transformer.",
            (f"Did you mean {close}? " if close else "") + f"The paper uses {['to_q', 'to_k', 'to_v', 'to_out.0']}.",
        )


def save_lora(transformer: Any, directory: Path) -> Path:
    """Write the adapter so that `pipe.load_lora_weights(directory)` loads it."""
    from diffusers import StableDiffusion3Pipeline
    from peft.utils import get_peft_model_state_dict

    directory.mkdir(parents=True, exist_ok=True)
    StableDiffusion3Pipeline.save_lora_weights(
        save_directory=str(directory),
        transformer_lora_layers=get_peft_model_state_dict(transformer),
        weight_name=LORA_WEIGHT_NAME,
    )
    return directory / LORA_WEIGHT_NAME


def load_lora_into(transformer: Any, directory: Path) -> None:
    """Restore adapter weights written by `save_lora` into a transformer that already has the adapter."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = load_file(str(directory / LORA_WEIGHT_NAME))
    prefix = "transformer."
    weights = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    result = set_peft_model_state_dict(transformer, weights, adapter_name="default")
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise RuntimeError(f"LoRA checkpoint {directory} has keys the model lacks: {unexpected[:3]}")


def build_controlnet(transformer: Any, num_layers: int) -> Any:
    """`SD3ControlNetModel.from_transformer` on a view of the transformer, which stays untouched.

    diffusers 0.42 writes `num_layers` and `extra_conditioning_channels` into the config it is
    given; handing it a copy of the config (and the real sub-modules, only read) keeps the
    transformer reloadable without deep-copying billions of weights. No extra conditioning
    channels: the SD3 ControlNet pipeline feeds the VAE latents of the control image.
    """
    from diffusers import SD3ControlNetModel
    from diffusers.configuration_utils import FrozenDict

    view = types.SimpleNamespace(
        config=FrozenDict(dict(transformer.config)),
        pos_embed=transformer.pos_embed,
        time_text_embed=transformer.time_text_embed,
        context_embedder=transformer.context_embedder,
        transformer_blocks=transformer.transformer_blocks,
    )
    return SD3ControlNetModel.from_transformer(view, num_layers=num_layers, num_extra_conditioning_channels=0)


def save_controlnet(controlnet: Any, directory: Path) -> Path:
    """Write the ControlNet so that `SD3ControlNetModel.from_pretrained(directory)` loads it."""
    directory.mkdir(parents=True, exist_ok=True)
    controlnet.save_pretrained(str(directory), safe_serialization=True)
    return directory


def load_controlnet_into(controlnet: Any, directory: Path) -> None:
    """Restore ControlNet weights written by `save_controlnet` into a model of the same shape."""
    from safetensors.torch import load_file

    files = sorted(Path(directory).glob("*.safetensors"))
    if len(files) != 1:
        raise RuntimeError(f"Expected one ControlNet weight file in {directory}, found {len(files)}.")
    controlnet.load_state_dict(load_file(str(files[0])))
