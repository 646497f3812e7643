"""The GPU option the app runs a model with: `core.models.gpu_options.pick_option` for the card it finds.

On a CUDA GPU the app loads SD3 models with the fastest option whose computed peak fits the card
(default fp16, 8-bit T5, 4-bit T5, model offload, sequential offload; never dropping T5, which
carries the climate prompt); the quantised T5 only where bitsandbytes is installed. On CPU or Apple
GPUs, for the tiny model, peer generators and unknown folders nothing changes.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, replace
from typing import Any

from core.models.spec import ModelSpec

log = logging.getLogger(__name__)

# The largest size the app generates: the option must fit it.
APP_MAX_SIZE_PX = 1024


@dataclass(frozen=True)
class GpuChoice:
    """The option picked for one model on one card, and the `ModelSpec` fields it sets."""

    model_id: str
    gpu_bytes: int
    option: str
    flags: str
    spec_fields: dict[str, Any]

    def line(self) -> str:
        flags = f" (`{self.flags}`)" if self.flags else ""
        return f"GPU with {self.gpu_bytes / 1000**3:.0f} GB: {self.model_id} runs with {self.option}{flags}."


def has_figures(model_id: str) -> bool:
    """True for the models `core.models.gpu_options` computes figures for (SD3 Medium, SD3.5 Large)."""
    from core.models.registry import KNOWN_MODELS

    model = KNOWN_MODELS.get(model_id)
    return model is not None and model.transformer_parameters is not None


def gpu_choice(model_id: str, gpu_bytes: int | None, bitsandbytes: bool = True) -> GpuChoice | None:
    """The option for `model_id` on a CUDA card of `gpu_bytes` (None: no CUDA GPU), or None when nothing
    changes: no GPU, or a model without computed figures (tiny, peer generators, folders)."""
    from core.models.gpu_options import pick_option
    from core.models.registry import KNOWN_MODELS

    if gpu_bytes is None or not has_figures(model_id):
        return None
    model = KNOWN_MODELS[model_id]

    def usable(option) -> bool:
        return bitsandbytes or "t5_quantization" not in option.spec

    option = pick_option(model, gpu_bytes, APP_MAX_SIZE_PX, usable)
    return GpuChoice(model_id, gpu_bytes, option.name, option.flags, dict(option.spec))


def bitsandbytes_installed() -> bool:
    return importlib.util.find_spec("bitsandbytes") is not None


def with_gpu_choice(spec: ModelSpec, choice: GpuChoice | None) -> ModelSpec:
    """`spec` with the picked option's fields, when the choice is for this model."""
    if choice is None or choice.model_id != spec.model_id:
        return spec
    return replace(spec, **choice.spec_fields)


class GpuPicker:
    """What the app asks: the option per model on demand, the card probed once, and only for a model
    with figures (so a tiny-model or peer-generator server never imports torch to look)."""

    def __init__(self, device: str = "auto", gpu_bytes: int | None = None, probe: bool = True) -> None:
        self.device = device
        self._gpu_bytes = gpu_bytes
        self._probed = gpu_bytes is not None or not probe
        self.bitsandbytes = bitsandbytes_installed()

    @property
    def gpu_bytes(self) -> int | None:
        if not self._probed:
            from core.models.device import cuda_memory_bytes  # torch is imported only when a card is asked about

            self._gpu_bytes, self._probed = cuda_memory_bytes(self.device), True
        return self._gpu_bytes

    def choice(self, model_id: str) -> GpuChoice | None:
        if not has_figures(model_id):
            return None
        return gpu_choice(model_id, self.gpu_bytes, self.bitsandbytes)

    def apply(self, spec: ModelSpec) -> ModelSpec:
        return with_gpu_choice(spec, self.choice(spec.model_id))

    def note(self, model_id: str) -> str:
        """One line for the Settings tab and the server log."""
        choice = self.choice(model_id)
        if choice is not None:
            return choice.line()
        if not has_figures(model_id):
            return f"{model_id}: no GPU option applied (figures are computed for SD3 Medium and SD3.5 Large only)."
        return "No CUDA GPU: the model loads as by default (no GPU option applied)."
