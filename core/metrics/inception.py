"""The FID Inception-v3: the TensorFlow 2015-12-05 graph with 2048-d pool features.

Layer and parameter names follow the standard weight file (`pt_inception-2015-12-05-6726825d.pth`,
as published by pytorch-fid; torch-fidelity's file uses the same names), so `load_state_dict`
takes it unchanged. The differences from the ImageNet Inception-v3 that make this the FID network:
1008 output classes, average pools that do not count padding, and a max pool in the last block.
Input: uint8 images (N, 3, H, W); they are resized to 299 x 299 and scaled to [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.metrics.state_dicts import load_state_dict_checked

FID_INPUT_PX = 299
FID_FEATURES = 2048
FID_CLASSES = 1008


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, as in the TF graph), ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    # The TF graph averages over the valid pixels only at the borders.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    """35 x 35 block (Mixed_5b..5d)."""

    def __init__(self, in_ch: int, pool_ch: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(in_ch, 64, 1)
        self.branch5x5_1 = ConvBN(in_ch, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(in_ch, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(in_ch, pool_ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool(x)),
            ],
            1,
        )


class ReductionB(nn.Module):
    """35 -> 17 grid reduction (Mixed_6a)."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(in_ch, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(in_ch, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, kernel_size=3, stride=2),
            ],
            1,
        )


class BlockC(nn.Module):
    """17 x 17 block with factorised 7 x 7 convolutions (Mixed_6b..6e)."""

    def __init__(self, in_ch: int, mid: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(in_ch, 192, 1)
        self.branch7x7_1 = ConvBN(in_ch, mid, 1)
        self.branch7x7_2 = ConvBN(mid, mid, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(mid, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(in_ch, mid, 1)
        self.branch7x7dbl_2 = ConvBN(mid, mid, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(mid, mid, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(mid, mid, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(mid, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvBN(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d7 = layer(d7)
        return torch.cat([self.branch1x1(x), b7, d7, self.branch_pool(_avg_pool(x))], 1)


class ReductionD(nn.Module):
    """17 -> 8 grid reduction (Mixed_7a)."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBN(in_ch, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(in_ch, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class BlockE(nn.Module):
    """8 x 8 block with split 1x3 / 3x1 outputs (Mixed_7b, Mixed_7c)."""

    def __init__(self, in_ch: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool  # the last block of the TF graph max-pools its pool branch
        self.branch1x1 = ConvBN(in_ch, 320, 1)
        self.branch3x3_1 = ConvBN(in_ch, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(in_ch, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1),
                torch.cat([self.branch3x3dbl_3a(d3), self.branch3x3dbl_3b(d3)], 1),
                self.branch_pool(pooled),
            ],
            1,
        )


class FidInceptionV3(nn.Module):
    """uint8 images (N, 3, H, W) -> 2048-d pool features (N, 2048), float32."""

    num_features = FID_FEATURES

    def __init__(self, preprocessing: str = "pytorch-fid") -> None:
        super().__init__()
        if preprocessing not in ("pytorch-fid", "torch-fidelity"):
            raise ValueError(f"unknown FID preprocessing {preprocessing!r}")
        # "torch-fidelity": TF1-style bilinear resize and (x - 128) / 128, as the paper's FID
        self.preprocessing = preprocessing
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = ReductionB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = ReductionD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        # The classifier is part of the standard file; FID uses the features before it.
        self.fc = nn.Linear(FID_FEATURES, FID_CLASSES)

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        if self.preprocessing == "torch-fidelity":
            from core.metrics.conventions import fidelity_normalize, tf1_bilinear_resize

            x = images.to(torch.float32)
            if x.shape[-2:] != (FID_INPUT_PX, FID_INPUT_PX):
                x = tf1_bilinear_resize(x, FID_INPUT_PX)
            return fidelity_normalize(x)
        x = images.to(torch.float32) / 255.0
        if x.shape[-2:] != (FID_INPUT_PX, FID_INPUT_PX):
            x = F.interpolate(x, size=(FID_INPUT_PX, FID_INPUT_PX), mode="bilinear", align_corners=False)
        return 2.0 * x - 1.0

    def logits_unbiased(self, images: torch.Tensor) -> torch.Tensor:
        """Classifier logits without its bias (torch-fidelity's input to the Inception Score)."""
        return self.forward(images) @ self.fc.weight.T

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self._input(images)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (
            self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
            self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c,
        ):  # fmt: skip
            x = block(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def load_fid_inception(path: Path, preprocessing: str = "pytorch-fid") -> FidInceptionV3:
    """The FID Inception with the weights in `path`, in eval mode."""
    # A torchvision-format file may also carry the auxiliary classifier, which FID never uses.
    return load_state_dict_checked(
        FidInceptionV3(preprocessing), path, "FID Inception-v3", drop_prefixes=("AuxLogits.",)
    )
