"""The EcoMapper paper's metric conventions: CLIP on the cosine scale, torch-fidelity's Inception
input, the JPEG quality-75 round trip of generated images, and the Inception Score.

* CLIP score: torchmetrics reports 100 x cosine (floored at 0); the paper's 0.32-0.40 are the
  cosine itself. `clip_on_scale` converts; tables say which scale they use.
* FID input: pytorch-fid (our default) resizes to 299 with PyTorch's bilinear interpolation and
  maps [0, 255] to [-1, 1] as x / 127.5 - 1; torch-fidelity (which the paper used) resizes with
  TensorFlow 1.x's bilinear rule (source = destination x in/out, no half-pixel offset) and maps
  with (x - 128) / 128. `tf1_bilinear_resize` and `fidelity_normalize` do the latter.
* JPEG: the original validation scripts saved generated images as .jpg (PIL's default quality
  75) before computing metrics; `jpeg_round_trip` reproduces that loss.
* Inception Score: torch-fidelity's: softmax of the Inception logits without the classifier bias
  ("logits_unbiased"), 10 splits, exp of the mean KL divergence to the split's marginal.
"""

from __future__ import annotations

import io

import numpy as np

CLIP_SCALES = ("cosine", "x100")
FID_PREPROCESSING = ("pytorch-fid", "torch-fidelity")
PAPER_JPEG_QUALITY = 75
IS_SPLITS = 10


def clip_on_scale(score_x100: float | np.ndarray, scale: str) -> float | np.ndarray:
    """A torchmetrics CLIP score (100 x cosine) on the scale asked for ("cosine" as the paper, or "x100")."""
    if scale not in CLIP_SCALES:
        raise ValueError(f"unknown CLIP scale {scale!r}; use one of {CLIP_SCALES}")
    return score_x100 / 100.0 if scale == "cosine" else score_x100


def clip_column_title(scale: str) -> str:
    return "CLIP (cosine)" if scale == "cosine" else "CLIP (100 x cosine)"


def jpeg_round_trip(image: np.ndarray, quality: int = PAPER_JPEG_QUALITY) -> np.ndarray:
    """The image after saving as JPEG at `quality` and reading it back (uint8 H x W x 3)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)


def tf1_bilinear_resize(images, size: int):
    """Bilinear resize as TensorFlow 1.x (align_corners=False, no half-pixel centres), NCHW float tensor."""
    import torch

    def axis(in_size: int, out_size: int):
        source = torch.arange(out_size, dtype=torch.float64) * (in_size / out_size)
        low = source.floor().clamp(max=in_size - 1).long()
        high = (low + 1).clamp(max=in_size - 1)
        return low, high, (source - low).to(torch.float32)

    x = images.to(torch.float32)
    top, bottom, wy = axis(x.shape[-2], size)
    left, right, wx = axis(x.shape[-1], size)
    rows = x[..., top, :] * (1 - wy)[:, None] + x[..., bottom, :] * wy[:, None]
    return rows[..., left] * (1 - wx) + rows[..., right] * wx


def fidelity_normalize(images):
    """torch-fidelity's scaling of [0, 255] pixels to the Inception input."""
    return (images - 128.0) / 128.0


def inception_score(logits, splits: int = IS_SPLITS) -> tuple[float, float]:
    """(mean, std) Inception Score from Inception logits (N, classes), as torch-fidelity computes it."""
    import torch

    logits = torch.as_tensor(logits, dtype=torch.float64)
    if logits.ndim != 2 or logits.shape[0] < splits:
        raise ValueError(f"need at least {splits} samples of logits (N, classes), got {tuple(logits.shape)}")
    probabilities = torch.softmax(logits, dim=1)
    scores = []
    for part in probabilities.chunk(splits, dim=0):
        marginal = part.mean(dim=0, keepdim=True)
        kl = (part * (part.clamp_min(1e-30).log() - marginal.clamp_min(1e-30).log())).sum(dim=1)
        scores.append(float(kl.mean().exp()))
    values = np.array(scores)
    return float(values.mean()), float(values.std())


def inception_score_from_pool_features(features, fc_weight, splits: int = IS_SPLITS) -> tuple[float, float]:
    """Inception Score from stored 2048-d pool features and the Inception classifier's weight (no bias)."""
    import torch

    pool = torch.as_tensor(np.asarray(features), dtype=torch.float64)
    weight = torch.as_tensor(fc_weight, dtype=torch.float64)
    return inception_score(pool @ weight.T, splits=splits)
