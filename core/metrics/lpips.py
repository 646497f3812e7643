"""LPIPS (Zhang et al. 2018, v0.1) with the AlexNet backbone, as the paper reports it.

The AlexNet feature stack mirrors the layer indices of the standard ImageNet file
(`alexnet-owt-7be5be79.pth`: `features.0`, `.3`, `.6`, `.8`, `.10`), and the five 1 x 1 linear heads
the names of the LPIPS v0.1 file (`lin0.model.1.weight` ...), so both load unchanged. Lower is closer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.config import Settings
from core.metrics.state_dicts import load_state_dict_checked
from core.metrics.weights import ALEXNET, LPIPS_ALEX_HEADS, resolve_weight_file

# LPIPS' input scaling layer: images in [-1, 1] shifted and scaled towards ImageNet statistics.
LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)
ALEX_TAP_CHANNELS = (64, 192, 384, 256, 256)
_NORM_EPS = 1e-10


class AlexNetFeatures(nn.Module):
    """torchvision's AlexNet `features` stack; returns the five ReLU outputs LPIPS compares."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),  # 0
            nn.ReLU(inplace=False),  # 1 -> tap
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # 3
            nn.ReLU(inplace=False),  # 4 -> tap
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # 6
            nn.ReLU(inplace=False),  # 7 -> tap
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # 8
            nn.ReLU(inplace=False),  # 9 -> tap
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # 10
            nn.ReLU(inplace=False),  # 11 -> tap
        )
        self.taps = (1, 4, 7, 9, 11)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                outputs.append(x)
                if index == self.taps[-1]:
                    break
        return outputs


class LinearHead(nn.Module):
    """A 1 x 1 convolution to one channel (dropout first in the original, a no-op at evaluation)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(p=0.0), nn.Conv2d(channels, 1, kernel_size=1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LpipsHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        for i, channels in enumerate(ALEX_TAP_CHANNELS):
            self.add_module(f"lin{i}", LinearHead(channels))

    def forward(self, diffs: list[torch.Tensor]) -> torch.Tensor:
        total = 0
        for i, diff in enumerate(diffs):
            total = total + getattr(self, f"lin{i}")(diff).mean(dim=(2, 3))
        return total[:, 0]


class LpipsNetwork(nn.Module):
    """uint8 image batches (N, 3, H, W) x 2 -> LPIPS distance per pair (N,)."""

    def __init__(self, backbone: AlexNetFeatures | None = None, heads: LpipsHeads | None = None) -> None:
        super().__init__()
        self.backbone = backbone or AlexNetFeatures()
        self.heads = heads or LpipsHeads()
        self.register_buffer("shift", torch.tensor(LPIPS_SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(LPIPS_SCALE).view(1, 3, 1, 1), persistent=False)

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(torch.float32) / 127.5 - 1.0
        return (x - self.shift) / self.scale

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        feats_a = self.backbone(self._prepare(real))
        feats_b = self.backbone(self._prepare(fake))
        diffs = []
        for a, b in zip(feats_a, feats_b, strict=True):
            a = a / (a.pow(2).sum(dim=1, keepdim=True).sqrt() + _NORM_EPS)
            b = b / (b.pow(2).sum(dim=1, keepdim=True).sqrt() + _NORM_EPS)
            diffs.append((a - b).pow(2))
        return self.heads(diffs)


def load_lpips_network(alexnet_path: Path, heads_path: Path) -> LpipsNetwork:
    """LPIPS with the ImageNet AlexNet weights and the v0.1 heads loaded from their standard files."""
    # The ImageNet file also holds the classifier, which LPIPS does not use.
    backbone = load_state_dict_checked(AlexNetFeatures(), alexnet_path, "AlexNet", drop_prefixes=("classifier.",))
    heads = load_state_dict_checked(LpipsHeads(), heads_path, "LPIPS v0.1 AlexNet heads")
    return LpipsNetwork(backbone, heads).eval()


def _to_nchw(images) -> torch.Tensor:
    if isinstance(images, torch.Tensor):
        return images
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    return torch.from_numpy(np.array(array, copy=True)).permute(0, 3, 1, 2)


class LpipsMetric:
    """LPIPS per pair and its running mean (`update` / `compute`), AlexNet v0.1.

    Args:
        settings: where weights are looked for (checkpoints/metrics, caches) and the offline flag.
        alexnet_weights: explicit path of `alexnet-owt-7be5be79.pth`.
        heads_weights: explicit path of the LPIPS v0.1 `alex.pth` heads.
        network: an already built `LpipsNetwork` (skips weight resolution).
        device: torch device.
        download: allow downloading missing weights.
    """

    def __init__(
        self,
        settings: Settings,
        alexnet_weights: str | os.PathLike | None = None,
        heads_weights: str | os.PathLike | None = None,
        *,
        network: LpipsNetwork | None = None,
        device: str = "cpu",
        download: bool = True,
    ) -> None:
        if network is None:
            alex = resolve_weight_file(ALEXNET, settings, alexnet_weights, download=download)
            heads = resolve_weight_file(LPIPS_ALEX_HEADS, settings, heads_weights, download=download)
            network = load_lpips_network(alex, heads)
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self._sum = 0.0
        self._count = 0

    @torch.no_grad()
    def score(self, real, fake) -> np.ndarray:
        """LPIPS per pair for uint8 batches (N, H, W, 3) numpy or (N, 3, H, W) torch."""
        a, b = _to_nchw(real).to(self.device), _to_nchw(fake).to(self.device)
        if a.shape != b.shape:
            from core.errors import BadRequestError

            raise BadRequestError(f"LPIPS needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}.", "Resize.")
        return self.network(a, b).double().cpu().numpy()

    def update(self, real, fake) -> np.ndarray:
        values = self.score(real, fake)
        self._sum += float(values.sum())
        self._count += len(values)
        return values

    def compute(self) -> float:
        return self._sum / self._count if self._count else float("nan")

    def reset(self) -> None:
        self._sum, self._count = 0.0, 0
