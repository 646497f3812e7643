"""Random-weight files in the standard key layouts of the FID Inception and AlexNet (no download).

Convolutions get He (Kaiming) initialisation so features keep a usable scale through the deep
Inception stack (PyTorch's default init shrinks them to ~1e-8).
"""

from __future__ import annotations

from pathlib import Path


def _he_init(network, seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return network


def write_random_inception(path: Path, seed: int = 0) -> dict:
    """Save a random FID Inception state dict (without batch-norm counters, like the standard file)."""
    import torch

    from core.metrics.inception import FidInceptionV3

    state = {k: v for k, v in _he_init(FidInceptionV3(), seed).state_dict().items() if "num_batches" not in k}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


def write_random_alexnet(path: Path, seed: int = 1) -> dict:
    """Save a random AlexNet `features.*` state dict plus a stand-in classifier entry LPIPS must ignore."""
    import torch

    from core.metrics.lpips import AlexNetFeatures

    state = dict(_he_init(AlexNetFeatures(), seed).state_dict())
    state["classifier.1.weight"] = torch.zeros(4, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state
