"""How much memory a generation needs and how much the device has free: batch size and VAE tiling.

The estimates are deliberately rough (activation sizes times a safety factor, weights excluded
because they are already resident): they decide between "fits" and "does not fit", not how many
bytes a run will peak at. With no way to read the free memory, nothing is batched and the VAE is
tiled from 1024 px, as before.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# Live activation tensors at the widest point of a pass (input, output, norm and residual copies).
VAE_LIVE_TENSORS = 6
TRANSFORMER_LIVE_TENSORS = 16  # per token: hidden, QKV, attention output, 4x feed-forward, norms
# Use at most this share of the free memory (other processes, allocator fragmentation).
MEMORY_SHARE = 0.6
# Frames per pipeline call at most when chosen automatically (longer calls make progress coarse).
MAX_AUTO_BATCH = 8
TEXT_TOKENS = 77 + 256  # CLIP + T5 (the climate prompt's 256 tokens)
FALLBACK_TILING_FROM_PX = 1024


def free_memory_bytes(device: str) -> int | None:
    """Bytes the device can still allocate (CUDA: free on the card; CPU: available RAM), or None."""
    import torch

    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    if device == "mps":
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        if recommended is None:
            return None
        return int(recommended() - torch.mps.current_allocated_memory())
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def planning_bytes(device: str, budget_bytes: int | None = None) -> int | None:
    """The memory to plan with: the free memory, capped by a budget (e.g. a share of a shared GPU)."""
    free = free_memory_bytes(device)
    if budget_bytes is None:
        return free
    return budget_bytes if free is None else min(free, budget_bytes)


def _element_bytes(dtype: Any) -> int:
    return int(getattr(dtype, "itemsize", 4))


def vae_decode_bytes(vae: Any, size_px: int, batch: int, dtype: Any) -> int:
    """Activation bytes of decoding `batch` images of size_px (the widest level of the decoder)."""
    channels = list(vae.config.block_out_channels)
    # level 0 (full resolution) has channels[0]; each level down halves the side and may widen
    widest = max(c / 4**level for level, c in enumerate(channels))
    return int(VAE_LIVE_TENSORS * batch * size_px * size_px * widest * _element_bytes(dtype))


def denoise_bytes_per_image(transformer: Any, size_px: int, dtype: Any, guidance: bool) -> int:
    """Activation bytes of one transformer pass for one image (two with classifier-free guidance)."""
    config = transformer.config
    width = int(config.num_attention_heads * config.attention_head_dim)
    patch = int(config.patch_size)
    tokens = (size_px // 8 // patch) ** 2 + TEXT_TOKENS
    branches = 2 if guidance else 1
    return int(TRANSFORMER_LIVE_TENSORS * tokens * width * _element_bytes(dtype) * branches)


def auto_batch_size(
    loaded: Any, size_px: int, mode: str = "text", guidance: bool = True, budget_bytes: int | None = None
) -> int:
    """Frames per pipeline call that fit in the free memory of the loaded model's device (1..8).

    Args:
        loaded: a `LoadedPipeline`.
        size_px: output size.
        mode: "text" or "controlnet" (the ControlNet adds its own pass).
        guidance: classifier-free guidance doubles the transformer batch.
        budget_bytes: plan with at most this much memory (default: all that is free now).
    """
    free = planning_bytes(loaded.device, budget_bytes)
    if free is None or loaded.offloaded:
        return 1  # offload swaps whole models in and out: batching would fight it
    pipe = loaded.pipe
    per_image = denoise_bytes_per_image(pipe.transformer, size_px, loaded.dtype, guidance)
    if mode == "controlnet" and loaded.controlnet_pipe is not None:
        per_image += denoise_bytes_per_image(loaded.controlnet_pipe.controlnet, size_px, loaded.dtype, guidance)
    # the engine decodes a batch frame by frame (sliced), so one frame's decode is live at a time
    per_image += vae_decode_bytes(pipe.vae, size_px, 1, loaded.dtype)
    fits = int(MEMORY_SHARE * free // max(1, per_image))
    batch = max(1, min(MAX_AUTO_BATCH, fits))
    log.debug("batch %d: %.0f MB per image, %.0f MB free", batch, per_image / 1e6, free / 1e6)
    return batch


def needs_vae_tiling(loaded: Any, size_px: int, batch: int, budget_bytes: int | None = None) -> bool:
    """Whether decoding `batch` images whole would not fit (then the VAE decodes in tiles)."""
    free = planning_bytes(loaded.device, budget_bytes)
    if free is None:
        return size_px >= FALLBACK_TILING_FROM_PX
    return vae_decode_bytes(loaded.pipe.vae, size_px, batch, loaded.dtype) > MEMORY_SHARE * free
