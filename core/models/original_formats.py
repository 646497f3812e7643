"""What the original EcoMapper scripts (github maltevb/ecomapper) write, converted on load.

* `train_lora.py` -> `<run>/transformer.safetensors`: the whole peft-injected transformer's state
  dict (float32): `...attn.to_q.base_layer.weight`, `...attn.to_q.lora_A.default.weight`,
  `...lora_B.default.weight`, and every other weight, including the fully trained `norm_out` and
  `proj_out` (at 512 px). `original_lora` turns it into a diffusers SD3 LoRA state dict plus those
  full weights.
* `train.py` -> a `StableDiffusion3Pipeline.save_pretrained` folder whose `model_index.json` has
  the text encoders and tokenizers (and sometimes the VAE) set to null: only `transformer/` (and
  `scheduler/`) are usable. `is_null_encoder_folder` spots it; `load_transformer` reads the
  transformer of such a folder, or of any `SD3Transformer2DModel` folder, for `--transformer`.
* `train_controlnet.py` -> an `SD3ControlNetModel.save_pretrained` folder (diffusers loads it); it
  was trained with the control image in [0, 1] and its latents without the VAE shift
  (`install_control_range`); `is_original_controlnet_folder` spots it (12 layers or the training
  card, no `control_range.json`), so "auto" gives it "0-1".
* `train_controlnet_lora.py` -> `<run>/controlnet.safetensors`: the whole ControlNet state dict
  with LoRA layers inside; `original_controlnet_lora` merges them into a plain ControlNet.

Our trainer writes `control_range.json` beside a ControlNet's `config.json` (`write_control_range`),
so its own ControlNets load with the range they were trained with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelUnavailableError

log = logging.getLogger(__name__)

ORIGINAL_LORA_FILE = "transformer.safetensors"
ORIGINAL_CONTROLNET_LORA_FILE = "controlnet.safetensors"
CONTROL_RANGE_FILE = "control_range.json"
# Our trainer's companion of a LoRA file: transformer weights trained fully beside the adapter.
FULL_WEIGHTS_FILE = "transformer_full_weights.safetensors"
CONTROL_RANGES = ("0-1", "-1-1")
# What an original-format ("0-1") ControlNet gets as its pooled text projection at inference.
CONTROLNET_POOLED = ("real", "zero")
# Transformer parts the original train_lora.py trains fully (besides the LoRA layers).
FULLY_TRAINED_PREFIXES = ("norm_out.", "proj_out.")
_ADAPTER_TAGS = (".lora_A.", ".lora_B.")


@dataclass(frozen=True)
class ConvertedLora:
    """A LoRA in the form diffusers' `load_lora_weights` takes, plus weights that replace the base's."""

    lora_state: dict[str, Any]  # "transformer.<module>.lora_A.weight" / "lora_B.weight"
    full_weights: dict[str, Any]  # transformer state-dict keys (norm_out.*, proj_out.*)
    rank: int
    source: Path


def _safetensors_keys(path: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return list(handle.keys())


def is_original_lora_file(path: Path) -> bool:
    """True for a state dict as the original train_lora.py saves it (peft keys with `.default.`)."""
    if not path.is_file() or path.suffix != ".safetensors":
        return False
    keys = _safetensors_keys(path)
    return any(".lora_A.default." in key for key in keys) and any(".base_layer." in key for key in keys)


def find_original_lora(ref: Path) -> Path | None:
    """The original LoRA file `ref` names (the file, or a run folder holding transformer.safetensors)."""
    candidate = ref / ORIGINAL_LORA_FILE if ref.is_dir() else ref
    return candidate if is_original_lora_file(candidate) else None


def original_lora(path: Path) -> ConvertedLora:
    """Convert the original train_lora.py file: LoRA layers to diffusers' SD3 keys, norm_out/proj_out kept.

    Raises:
        ModelUnavailableError: the file has no LoRA layers.
    """
    from safetensors.torch import load_file

    state = load_file(str(path))
    lora_state: dict[str, Any] = {}
    full_weights: dict[str, Any] = {}
    rank = 0
    for key, value in state.items():
        if any(tag in key for tag in _ADAPTER_TAGS):
            # transformer_blocks.0.attn.to_q.lora_A.default.weight -> transformer.<...>.lora_A.weight
            lora_state["transformer." + key.replace(".default.", ".")] = value
            if ".lora_A." in key:
                rank = int(value.shape[0])
        elif key.startswith(FULLY_TRAINED_PREFIXES):
            full_weights[key] = value
    if not lora_state:
        raise ModelUnavailableError(
            f"{path} has no LoRA layers (no `lora_A.default` keys).",
            "Give the transformer.safetensors that the original train_lora.py wrote.",
        )
    log.info("original EcoMapper LoRA %s: rank %d, %d fully trained tensors", path, rank, len(full_weights))
    return ConvertedLora(lora_state=lora_state, full_weights=full_weights, rank=rank, source=path)


def read_full_weights(lora_ref: Path) -> dict[str, Any]:
    """Our trainer's fully trained weights beside a LoRA (empty when there are none)."""
    from safetensors.torch import load_file

    folder = lora_ref if lora_ref.is_dir() else lora_ref.parent
    path = folder / FULL_WEIGHTS_FILE
    return load_file(str(path)) if path.is_file() else {}


def apply_full_weights(transformer: Any, weights: dict[str, Any]) -> None:
    """Put fully trained weights (norm_out, proj_out) into the transformer, checking every key fits."""
    if not weights:
        return
    own = transformer.state_dict()
    wrong = [k for k, v in weights.items() if k not in own or tuple(own[k].shape) != tuple(v.shape)]
    if wrong:
        raise ModelUnavailableError(
            f"The LoRA's fully trained weights do not fit this transformer ({', '.join(wrong[:3])}).",
            "Use the base model the LoRA was trained on (EcoMapper: sd3-medium).",
        )
    dtype = next(transformer.parameters()).dtype
    transformer.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=False)


def merged_state_dict(state: dict[str, Any], scale: float | None = None) -> dict[str, Any]:
    """A peft-injected state dict with each LoRA folded into its base layer: W + (alpha/r) B A.

    Args:
        state: keys like `x.base_layer.weight`, `x.lora_A.default.weight`, `x.lora_B.default.weight`.
        scale: alpha / r; None uses 1.0 (the original runs used alpha = r).
    """
    merged: dict[str, Any] = {}
    factor = 1.0 if scale is None else scale
    for key, value in state.items():
        if any(tag in key for tag in _ADAPTER_TAGS):
            continue
        if ".base_layer." in key:
            module, _, leaf = key.partition(".base_layer.")
            if leaf == "weight" and f"{module}.lora_A.default.weight" in state:
                lora_a = state[f"{module}.lora_A.default.weight"].float()
                lora_b = state[f"{module}.lora_B.default.weight"].float()
                value = (value.float() + factor * (lora_b @ lora_a)).to(value.dtype)
            merged[f"{module}.{leaf}"] = value
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------------------------- transformers


def is_null_encoder_folder(folder: Path) -> bool:
    """A pipeline folder from the original train.py: text encoders / tokenizers null in model_index.json."""
    index = folder / "model_index.json"
    if not index.is_file():
        return False
    try:
        entries = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    parts = ("text_encoder", "tokenizer", "text_encoder_3")
    nulls = [name for name in parts if name in entries and entries[name] in (None, [None, None])]
    return bool(nulls) and (folder / "transformer" / "config.json").is_file()


def transformer_folder(ref: Path) -> Path:
    """The folder holding an SD3 transformer's config.json: `ref` itself or its `transformer/`."""
    if (ref / "config.json").is_file():
        return ref
    if (ref / "transformer" / "config.json").is_file():
        return ref / "transformer"
    raise ModelUnavailableError(
        f"No SD3 transformer at {ref} (neither config.json nor transformer/config.json).",
        "Point --transformer at a fine-tuned transformer folder or a pipeline folder from the original train.py.",
    )


def load_transformer(ref: str | Path, dtype: Any) -> Any:
    """An `SD3Transformer2DModel` from a folder (ours, or a train.py pipeline folder)."""
    from diffusers import SD3Transformer2DModel

    folder = transformer_folder(Path(ref).expanduser())
    try:
        return SD3Transformer2DModel.from_pretrained(folder, dtype=dtype, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailableError(
            f"The transformer at {folder} could not be loaded: {str(err).splitlines()[0]}",
            "Point --transformer at a folder saved by SD3Transformer2DModel.save_pretrained.",
        ) from err


def check_transformer_fits(transformer: Any, base: Any) -> None:
    """A fine-tuned transformer must have the base model's shape (same text embeddings and latents)."""
    keys = ("joint_attention_dim", "pooled_projection_dim", "in_channels", "patch_size", "num_layers")
    wrong = [k for k in keys if transformer.config.get(k) != base.config.get(k)]
    if wrong:
        raise ModelUnavailableError(
            f"The transformer does not fit the base model (different {', '.join(wrong)}).",
            "Put it on the base model it was fine-tuned from (EcoMapper: sd3-medium).",
        )


# -------------------------------------------------------------------------------------- ControlNets


def find_original_controlnet_lora(ref: Path) -> Path | None:
    """The original train_controlnet_lora.py output (`controlnet.safetensors` without a config.json)."""
    candidate = ref / ORIGINAL_CONTROLNET_LORA_FILE if ref.is_dir() else ref
    if not candidate.is_file() or (candidate.parent / "config.json").is_file():
        return None
    keys = _safetensors_keys(candidate)
    return candidate if any(k.startswith("controlnet_blocks.") for k in keys) else None


def original_controlnet_lora(path: Path, transformer: Any, dtype: Any) -> Any:
    """A plain `SD3ControlNetModel` from the original controlnet.safetensors, its LoRA layers merged."""
    from diffusers import SD3ControlNetModel
    from safetensors.torch import load_file

    state = merged_state_dict(load_file(str(path)))
    num_layers = len({int(k.split(".")[1]) for k in state if k.startswith("controlnet_blocks.")})
    config = {k: v for k, v in dict(transformer.config).items() if not k.startswith("_")}
    config.update(num_layers=num_layers, extra_conditioning_channels=0)
    controlnet = SD3ControlNetModel.from_config(config)
    missing, unexpected = controlnet.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelUnavailableError(
            f"{path} does not fit an SD3 ControlNet of this base model "
            f"({len(missing)} missing, {len(unexpected)} unexpected weights, e.g. {(missing or unexpected)[:2]}).",
            "Use the base model the ControlNet was trained on (EcoMapper: sd3-medium).",
        )
    return controlnet.to(dtype=dtype)


def read_control_range(folder: Path) -> str | None:
    """The control range our trainer recorded beside a ControlNet, or None."""
    path = folder / CONTROL_RANGE_FILE
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text()).get("control_range")
    except (OSError, json.JSONDecodeError) as err:
        raise ModelUnavailableError(f"Cannot read {path}: {err}", "Delete it or write it again.") from err
    if value not in CONTROL_RANGES:
        raise ModelUnavailableError(f"{path} names an unknown control range {value!r}.", 'Use "0-1" or "-1-1".')
    return value


def write_control_range(folder: Path, control_range: str) -> None:
    from core.io.files import atomic_write_json

    atomic_write_json(folder / CONTROL_RANGE_FILE, {"control_range": control_range})


def install_control_range(pipe: Any, control_range: str, pooled: str = "real") -> Any:
    """Make an SD3 ControlNet pipeline feed its ControlNet as the original EcoMapper scripts trained it.

    "0-1": the VAE encodes the control image in [0, 1] (not [-1, 1]) and its latents are scaled
    without the VAE shift. `pooled` "real": the ControlNet gets the real pooled text projection, as
    the original trained it; "zero": a zero one, as the original's evaluation under diffusers 0.32.1
    gave it (the ControlNet's config `force_zeros_for_pooled_projection`, True for
    `from_transformer`, made that pipeline zero it and skip the shift). "-1-1": diffusers' own
    convention, nothing changes. Returns a handle whose `remove()` undoes it (None for "-1-1").
    """
    if control_range == "-1-1":
        return None
    if control_range != "0-1":
        raise ModelUnavailableError(f"Unknown control range {control_range!r}.", 'Use "0-1" or "-1-1".')
    if pooled not in CONTROLNET_POOLED:
        raise ModelUnavailableError(f"Unknown pooled projection {pooled!r}.", f"Use one of {CONTROLNET_POOLED}.")
    controlnet = pipe.controlnet
    vae = pipe.vae
    # The pipeline zeroes the pooled projection and skips the shift when this flag is set. For the real
    # pooled projection the flag goes and the shift is undone below; for the zero one it is set.
    previous_flag = controlnet.config.force_zeros_for_pooled_projection
    controlnet.register_to_config(force_zeros_for_pooled_projection=pooled == "zero")
    shift_times_scale = 0.0
    if pooled == "real":
        shift_times_scale = float(getattr(vae.config, "shift_factor", 0.0) or 0.0) * float(vae.config.scaling_factor)
    pipeline_prepare = pipe.prepare_image

    def prepare_image_in_unit_range(*args: Any, **kwargs: Any) -> Any:
        # The pipeline's preprocessing maps the image to [-1, 1]; the original encoded it in [0, 1].
        return (pipeline_prepare(*args, **kwargs) + 1.0) / 2.0

    def unshifted_control(_module: Any, args: tuple, kwargs: dict) -> tuple:
        # pipeline: (z - shift) * scale; original: z * scale
        if "controlnet_cond" in kwargs:
            kwargs = {**kwargs, "controlnet_cond": kwargs["controlnet_cond"] + shift_times_scale}
        return args, kwargs

    pipe.prepare_image = prepare_image_in_unit_range
    pipe.control_range = control_range  # for code that prepares control latents itself
    hook = controlnet.register_forward_pre_hook(unshifted_control, with_kwargs=True)

    class _Handle:
        def remove(self) -> None:
            hook.remove()
            pipe.prepare_image = pipeline_prepare
            pipe.control_range = "-1-1"
            controlnet.register_to_config(force_zeros_for_pooled_projection=previous_flag)

    return _Handle()


# ---------------------------------------------------------------------------- hooks for core.models


def spec_for_null_encoder_folder(spec: Any) -> Any:
    """`--model FOLDER` where FOLDER is the original train.py's output -> sd3-medium + its transformer."""
    from dataclasses import replace

    folder = Path(str(spec.model_id)).expanduser()
    if spec.transformer is None and folder.is_dir() and is_null_encoder_folder(folder):
        log.info("%s has no text encoders (the original train.py): using it as --transformer on sd3-medium", folder)
        return replace(spec, model_id="sd3-medium", transformer=str(folder))
    return spec


def with_transformer(pipe: Any, ref: str, dtype: Any) -> Any:
    """The pipeline with its transformer replaced by a fine-tuned one of the same shape."""
    transformer = load_transformer(ref, dtype)
    check_transformer_fits(transformer, pipe.transformer)
    return type(pipe)(**{**pipe.components, "transformer": transformer})


def resolve_control_range(spec: Any, settings: Any) -> str:
    """The control range to use for `spec`'s ControlNet (see `ModelSpec.control_range`)."""
    if spec.control_range != "auto":
        return spec.control_range
    if spec.controlnet is None:
        return "-1-1"
    ref = Path(str(spec.controlnet)).expanduser()
    if not ref.exists():
        return "-1-1"  # a Hub id or the built-in tiny one: diffusers' convention
    if find_original_controlnet_lora(ref) is not None:
        return "0-1"
    for folder in (ref, ref / "controlnet"):
        recorded = read_control_range(folder) if folder.is_dir() else None
        if recorded is not None:
            return recorded
    if any(is_original_controlnet_folder(folder) for folder in (ref, ref / "controlnet")):
        return "0-1"
    return "-1-1"


# The original train_controlnet.py builds its ControlNet as `from_transformer(transformer, num_layers=12)`
# and writes diffusers' SD3 ControlNet training card (README.md, tag "diffusers-training") beside it.
ORIGINAL_CONTROLNET_LAYERS = 12


def is_original_controlnet_folder(folder: Path) -> bool:
    """True for an SD3 ControlNet folder as the original train_controlnet.py saves it (no range recorded).

    It trained on control images in [0, 1] (its `transforms_control_img` has no Normalize); the
    Hub's SD3 ControlNets (InstantX: 6 layers) and our trainer's (`control_range.json`) are not this.
    """
    config_path = folder / "config.json"
    if not config_path.is_file() or (folder / CONTROL_RANGE_FILE).is_file():
        return False
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    if config.get("_class_name") != "SD3ControlNetModel":
        return False
    card = folder / "README.md"
    trained_card = card.is_file() and "diffusers-training" in card.read_text(encoding="utf-8", errors="replace")
    return trained_card or config.get("num_layers") == ORIGINAL_CONTROLNET_LAYERS
