"""Choice of torch device and dtype: CUDA bf16 (fp16 on older GPUs), then MPS fp16, then CPU float32."""

from __future__ import annotations

import logging

from core.errors import BadRequestError

log = logging.getLogger(__name__)


def choose_device(requested: str = "auto") -> str:
    """The torch device string to run on.

    Args:
        requested: "auto", "cpu", "cuda", "cuda:N" or "mps".

    Raises:
        BadRequestError: the requested device is not available on this machine.
    """
    import torch

    mps_available = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if mps_available else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadRequestError(
                f"Device {requested!r} was asked for, but torch sees no CUDA GPU (torch {torch.__version__}).",
                "Use --device cpu, or install a CUDA build of torch on a machine with an NVIDIA GPU.",
            )
        index = int(requested.split(":", 1)[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise BadRequestError(
                f"Device {requested!r} does not exist: {torch.cuda.device_count()} CUDA device(s).",
                "Pick an index below the device count.",
            )
        return requested
    if requested == "mps" and not mps_available:
        raise BadRequestError("Device 'mps' was asked for, but MPS is not available.", "Use --device cpu.")
    return requested


def choose_dtype(device: str, requested: str = "auto"):
    """The torch dtype for `device`: CUDA bf16 (fp16 without bf16 support), MPS fp16, CPU float32.

    Raises:
        BadRequestError: float16 on the CPU (many CPU kernels lack it; use float32 or bfloat16).
    """
    import torch

    if requested == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float16 if device == "mps" else torch.float32
    dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[requested]
    if device == "cpu" and dtype == torch.float16:
        raise BadRequestError(
            "float16 was asked for on the CPU, where many operations have no float16 kernels.",
            "Use --dtype float32 (default on CPU) or bfloat16.",
        )
    return dtype


def cuda_memory_bytes(device: str = "auto") -> int | None:
    """Total memory of the CUDA card `device` names ("auto": the first), None without one (CPU, MPS)."""
    if device not in ("auto", "cuda") and not device.startswith("cuda:"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    index = int(device.split(":", 1)[1]) if device.startswith("cuda:") else 0
    return int(torch.cuda.get_device_properties(index).total_memory)
