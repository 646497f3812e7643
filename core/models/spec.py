"""What to load: a model id plus optional LoRA / ControlNet and device, dtype and memory options."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.config import check_device, check_dtype
from core.errors import BadRequestError

# bitsandbytes: LLM.int8 or 4-bit NF4 weights for the T5 encoder (docs/gpu.md says why this library)
T5_QUANTIZATIONS = ("none", "8bit", "4bit")


@dataclass(frozen=True)
class ModelSpec:
    """A model to load.

    Args:
        model_id: "sd3-medium", "tiny-random", a local diffusers folder or a Hub repository id.
        lora: a LoRA adapter (a .safetensors file, a folder, or a Hub repository id), or None.
        lora_scale: strength of the LoRA; 0 gives the base model's output.
        controlnet: an SD3 ControlNet (folder or Hub id), "tiny-random" for the in-code tiny one,
            or None. The tiny model always carries its tiny ControlNet.
        device: "auto" (the settings' choice), "cpu", "cuda", "cuda:N" or "mps".
        dtype: "auto" (CUDA bf16/fp16, MPS fp16, CPU float32), "float32", "float16" or "bfloat16".
        cpu_offload: keep sub-models on the CPU and move each to the GPU while it runs (CUDA only).
        drop_t5: load without the T5 encoder (saves ~9 GB in fp16); the climate prompt is then lost.
        t5_quantization: "none", "8bit" or "4bit": the T5 encoder's weights quantised by bitsandbytes
            (CUDA only; 8-bit roughly halves its ~9 GB, 4-bit NF4 quarters it; the climate prompt is kept).
        sequential_offload: stream weights to the GPU layer by layer (CUDA only; the least memory, slowest).
        transformer: a fully fine-tuned SD3 transformer to put on the base model (a transformer folder,
            or a pipeline folder from the original EcoMapper train.py), or None.
        control_range: range of the control image fed to the ControlNet's VAE encoding: "0-1" (the
            original EcoMapper ControlNet scripts), "-1-1" (diffusers), or "auto" (what our trainer
            recorded beside the ControlNet, else "0-1" for the original's controlnet.safetensors,
            else "-1-1").
        controlnet_pooled: the pooled text projection a "0-1" ControlNet gets: "real" (as the original
            trained it) or "zero" (as the original's evaluation under diffusers 0.32.1 fed it; `--paper`).
    """

    model_id: str
    lora: str | None = None
    lora_scale: float = 1.0
    controlnet: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    drop_t5: bool = False
    transformer: str | None = None
    control_range: str = "auto"
    controlnet_pooled: str = "real"
    t5_quantization: str = "none"
    sequential_offload: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id.strip():
            raise BadRequestError("No model given.", "Pass a model id such as sd3-medium or tiny-random.")
        scale = self.lora_scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
            raise BadRequestError(f"The LoRA scale {scale!r} is not a number.", "Give a LoRA scale such as 1.0.")
        if not -4.0 <= scale <= 4.0:
            raise BadRequestError(
                f"The LoRA scale {scale:g} is outside -4..4.", "Use a scale near 1 (0 turns the LoRA off)."
            )
        object.__setattr__(self, "lora_scale", float(scale))
        check_device(self.device)
        check_dtype(self.dtype)
        if self.control_range not in ("auto", "0-1", "-1-1"):
            raise BadRequestError(
                f"Unknown control range {self.control_range!r}.",
                'Use "0-1" for ControlNets from the original EcoMapper scripts, "-1-1" for diffusers ones, or "auto".',
            )
        if self.controlnet_pooled not in ("real", "zero"):
            raise BadRequestError(
                f"Unknown ControlNet pooled projection {self.controlnet_pooled!r}.",
                'Use "real" or "zero" (the original\'s evaluation under diffusers 0.32.1).',
            )
        if self.t5_quantization not in T5_QUANTIZATIONS:
            raise BadRequestError(
                f"Unknown T5 quantization {self.t5_quantization!r}.", f"Use one of {', '.join(T5_QUANTIZATIONS)}."
            )
        if self.t5_quantization != "none" and self.drop_t5:
            raise BadRequestError("--t5-quantization and --no-t5 both given.", "Quantise T5 or drop it, not both.")
        if self.sequential_offload and self.cpu_offload:
            raise BadRequestError(
                "--sequential-offload and --cpu-offload both given.", "Pick one (sequential uses less memory)."
            )
        for name in ("lora", "controlnet", "transformer"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise BadRequestError(f"The {name} {value!r} is empty.", f"Give a path or Hub id, or leave {name} out.")

    def as_dict(self) -> dict[str, object]:
        return {
            "model_id": self.model_id,
            "lora": self.lora,
            "lora_scale": self.lora_scale,
            "controlnet": self.controlnet,
            "device": self.device,
            "dtype": self.dtype,
            "cpu_offload": self.cpu_offload,
            "drop_t5": self.drop_t5,
            "transformer": self.transformer,
            "control_range": self.control_range,
            "controlnet_pooled": self.controlnet_pooled,
            "t5_quantization": self.t5_quantization,
            "sequential_offload": self.sequential_offload,
        }
