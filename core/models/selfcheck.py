"""The model side of the GPU self-check: what this machine lacks for a model, library versions, and
one timed run with its peak GPU memory. The check itself (modes, report) is `core.services.selfcheck`."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.config import Settings
from core.errors import EcoMapperError


@dataclass(frozen=True)
class Missing:
    """One thing the self-check needs and this machine lacks: what, and how to get it."""

    what: str
    problem: str
    fix: str


def find_missing(model_id: str, settings: Settings, device: str = "auto") -> list[Missing]:
    """What this machine lacks for a self-check of `model_id` (empty: ready). Reads no weights."""
    import torch

    from core.models.checkpoints import resolve_weights
    from core.models.registry import CONTROLNETS, KNOWN_MODELS, TINY_MODEL_ID

    missing: list[Missing] = []
    wants_gpu = device in ("auto", "cuda") or device.startswith("cuda")
    if model_id != TINY_MODEL_ID and wants_gpu and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"a CUDA {torch.version.cuda} build"
        missing.append(
            Missing(
                "CUDA GPU",
                f"torch {torch.__version__} ({build}) sees no CUDA GPU on this machine.",
                "Run on a machine with an NVIDIA GPU (sd3-medium in bf16 needs ~15 GiB with T5, ~6 GiB with --no-t5; "
                "see the README's memory table) and a CUDA build of torch "
                "(e.g. pip install torch --index-url https://download.pytorch.org/whl/cu124). "
                "Or check the code path here with --model tiny-random --device cpu.",
            )
        )
    if model_id == TINY_MODEL_ID:
        return missing
    try:
        resolve_weights(model_id, settings, what="model", allow_download=False)
    except EcoMapperError as err:
        missing.append(Missing(f"weights of {model_id}", err.problem, err.fix))
    base = KNOWN_MODELS.get(model_id)
    for known in CONTROLNETS.values():
        if base is None or known.base_model != base.model_id:
            continue
        try:
            resolve_weights(known.controlnet_id, settings, what="ControlNet", pipeline=False, allow_download=False)
        except EcoMapperError as err:
            missing.append(Missing(f"ControlNet {known.controlnet_id} ({known.repo_id})", err.problem, err.fix))
    return missing


def library_versions() -> dict[str, str]:
    """Python, torch, diffusers and transformers versions, and the CUDA version and GPU name when there is one."""
    import diffusers
    import torch
    import transformers

    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
    }
    if torch.cuda.is_available():
        versions["cuda"] = str(torch.version.cuda)
        versions["gpu"] = torch.cuda.get_device_name(0)
    return versions


def timed_run(make: Callable[[], Any], cuda: bool) -> tuple[Any, float, int | None]:
    """(what `make()` returns, seconds, peak GPU bytes or None off CUDA), the GPU synchronised around it."""
    import torch

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = make()
    if cuda:
        torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() if cuda else None
    return result, time.perf_counter() - started, peak
