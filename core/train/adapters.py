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
TRANSFORMER_SUBDIR = "transformer"
# A checkpoint's exact trainable state (ControlNet with its LoRA layers, or the whole transformer).
TRAINING_STATE_NAME = "model_state.safetensors"


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


def save_controlnet(controlnet: Any, directory: Path, merge_lora: bool = False) -> Path:
    """Write the ControlNet so that `SD3ControlNetModel.from_pretrained(directory)` loads it.

    `merge_lora`: a ControlNet carrying LoRA layers (controlnet_lora) is written with them folded in.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if merge_lora:
        from diffusers import SD3ControlNetModel

        from core.models.original_formats import merged_state_dict

        peft = controlnet.peft_config["default"]
        merged = merged_state_dict(controlnet.state_dict(), scale=peft.lora_alpha / peft.r)
        plain = SD3ControlNetModel.from_config(controlnet.config)
        plain.load_state_dict(merged)
        controlnet = plain
    controlnet.save_pretrained(str(directory), safe_serialization=True)
    return directory


def save_training_state(model: Any, directory: Path) -> Path:
    """The exact trainable module (every tensor) for resuming."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / TRAINING_STATE_NAME))
    return directory


def load_training_state(model: Any, directory: Path) -> None:
    from safetensors.torch import load_file

    path = directory / TRAINING_STATE_NAME
    if not path.is_file():
        raise RuntimeError(f"Checkpoint {directory} has no {TRAINING_STATE_NAME}.")
    model.load_state_dict(load_file(str(path)))


def save_transformer(transformer: Any, directory: Path) -> Path:
    """A fully fine-tuned transformer, loadable with `--transformer` on top of its base model."""
    directory.mkdir(parents=True, exist_ok=True)
    transformer.save_pretrained(str(directory), safe_serialization=True)
    return directory


def save_full_weights(transformer: Any, directory: Path, prefixes: tuple[str, ...]) -> Path:
    """Weights trained fully beside a LoRA (norm_out, proj_out), next to the LoRA file."""
    from safetensors.torch import save_file

    from core.models.original_formats import FULL_WEIGHTS_FILE

    state = {
        k: v.detach().to("cpu").contiguous() for k, v in transformer.state_dict().items() if k.startswith(prefixes)
    }
    save_file(state, str(directory / FULL_WEIGHTS_FILE))
    return directory / FULL_WEIGHTS_FILE


def frozen_block_count(blocks: str) -> int:
    from core.train.config import FROZEN_BLOCKS

    return FROZEN_BLOCKS[blocks]


def set_full_trainable(transformer: Any, blocks: str) -> None:
    """The original train.py's trainable set.

    "all" (train_all_layers): every parameter. Otherwise (MM_DiT_blocks): the first
    0 / 8 / 12 / 17 joint blocks ("full" / "large" / "medium" / "small") and the patch embedding
    stay frozen; the other blocks, time_text_embed, context_embedder, norm_out and proj_out train.
    """
    if blocks == "all":
        transformer.requires_grad_(True)
        return
    frozen = frozen_block_count(blocks)
    transformer.requires_grad_(False)
    for index, block in enumerate(transformer.transformer_blocks):
        block.requires_grad_(index >= frozen)
    for name in ("time_text_embed", "context_embedder", "norm_out", "proj_out"):
        getattr(transformer, name).requires_grad_(True)


def load_initial_lora(transformer: Any, controlnet: Any, lora: Any) -> None:
    """controlnet_lora: start from a trained LoRA of the transformer, as the original does.

    The frozen transformer gets the LoRA merged into its weights and the LoRA run's fully trained
    `norm_out` / `proj_out` (the original loads the whole transformer.safetensors with strict=True);
    the ControlNet's LoRA layers take the same values for the blocks it shares with the transformer
    (the original loads the transformer's file into the ControlNet with strict=False).
    """
    import torch
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    from core.models.original_formats import apply_full_weights, find_original_lora, original_lora, read_full_weights

    source = Path(lora.init_weights)
    original = find_original_lora(source)
    if original is not None:
        converted = original_lora(original)
        state = {k[len("transformer.") :]: v for k, v in converted.lora_state.items()}
        full_weights = converted.full_weights
    else:
        path = source / LORA_WEIGHT_NAME if source.is_dir() else source
        state = {k[len("transformer.") :]: v for k, v in load_file(str(path)).items() if k.startswith("transformer.")}
        full_weights = read_full_weights(source)
    apply_full_weights(transformer, full_weights)
    scale = lora.alpha / lora.rank
    with torch.no_grad():
        own = dict(transformer.named_modules())
        for key, lora_a in state.items():
            if ".lora_A." not in key:
                continue
            module_name = key.split(".lora_A.")[0]
            lora_b = state[key.replace(".lora_A.", ".lora_B.")]
            layer = own[module_name]
            layer.weight += scale * (lora_b.float() @ lora_a.float()).to(layer.weight.dtype)
    blocks = controlnet.config.num_layers
    shared = {k: v for k, v in state.items() if k.startswith("transformer_blocks.") and int(k.split(".")[1]) < blocks}
    set_peft_model_state_dict(controlnet, shared, adapter_name="default")


def load_controlnet_into(controlnet: Any, directory: Path) -> None:
    """Restore ControlNet weights written by `save_controlnet` into a model of the same shape."""
    from safetensors.torch import load_file

    files = sorted(Path(directory).glob("*.safetensors"))
    if len(files) != 1:
        raise RuntimeError(f"Expected one ControlNet weight file in {directory}, found {len(files)}.")
    controlnet.load_state_dict(load_file(str(files[0])))
