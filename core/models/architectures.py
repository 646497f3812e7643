"""The real SD3-family architectures built from their Hub config files, without weights.

A diffusers folder (or a Hub snapshot holding only its config files) says which class each part
is (`model_index.json`) and its shape (`<part>/config.json`). Building the parts on the meta
device allocates nothing, so the real 2 B / 8 B parameter models can be counted, checked against
each other (does this ControlNet fit that base?) and timed (`benchmarks/bench_real_architecture.py`
materialises one with random weights) on a machine without the weights or a GPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import ModelUnavailableError

# model_index.json entries that are modules with weights (tokenizers and the scheduler have none).
WEIGHTED_PARTS = ("transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3", "controlnet")


def read_model_index(folder: Path) -> dict[str, tuple[str, str]]:
    """part -> (library, class name) from a pipeline folder's model_index.json (empty parts left out)."""
    try:
        index = json.loads((Path(folder) / "model_index.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ModelUnavailableError(
            f"Cannot read {Path(folder) / 'model_index.json'}: {err}", "Give a folder saved by save_pretrained."
        ) from err
    return {
        name: (value[0], value[1])
        for name, value in index.items()
        if not name.startswith("_") and isinstance(value, list) and len(value) == 2 and value[0] is not None
    }


def _part_class(library: str, class_name: str):
    import diffusers
    import transformers

    module = {"diffusers": diffusers, "transformers": transformers}.get(library)
    cls = getattr(module, class_name, None) if module is not None else None
    if cls is None:
        raise ModelUnavailableError(
            f"Unknown model class {library}.{class_name}.", "Update diffusers / transformers, or check the folder."
        )
    return cls


def build_empty_module(config_folder: Path, library: str, class_name: str):
    """One model built from `config_folder/config.json` with its parameters on the meta device.

    Buffers stay real (accelerate's default): SD3's fixed sin-cos position table is one.
    """
    from accelerate import init_empty_weights

    cls = _part_class(library, class_name)
    folder = Path(config_folder)
    with init_empty_weights():
        if library == "transformers":
            config = cls.config_class.from_pretrained(folder)
            return cls(config).eval()
        return cls.from_config(cls.load_config(folder)).eval()


def build_empty_part(folder: Path, part: str):
    """A pipeline part (e.g. "transformer") of a diffusers folder, parameters on the meta device."""
    parts = read_model_index(folder)
    if part not in parts:
        raise ModelUnavailableError(f"{folder} has no part {part!r}.", f"It has: {', '.join(sorted(parts))}.")
    library, class_name = parts[part]
    return build_empty_module(Path(folder) / part, library, class_name)


def build_empty_controlnet(folder: Path):
    """An SD3 ControlNet from its config.json, parameters on the meta device.

    The class is SD3ControlNetModel whatever `_class_name` says: InstantX's Canny config was
    saved by a pre-release diffusers as "ControlNetSD3Model", which diffusers loads as SD3ControlNetModel.
    """
    return build_empty_module(Path(folder), "diffusers", "SD3ControlNetModel")


def parameter_count(module: Any) -> int:
    """Trainable-shape parameters (buffers such as the position table are not counted)."""
    return sum(p.numel() for p in module.parameters())


def buffer_bytes(module: Any, bytes_per_value: int) -> int:
    """Bytes the module's persistent buffers take at `bytes_per_value` (they are saved and loaded too)."""
    return sum(b.numel() for b in module.buffers()) * bytes_per_value


def pipeline_parameter_counts(folder: Path) -> dict[str, int]:
    """Parameters of each weighted part of a pipeline folder (built on the meta device, one at a time)."""
    counts = {}
    for part in read_model_index(folder):
        if part in WEIGHTED_PARTS:
            counts[part] = parameter_count(build_empty_part(folder, part))
    return counts
