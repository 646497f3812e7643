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
* Inception Score: softmax of the Inception logits without the classifier bias ("logits_unbiased"),
  10 shuffled splits, exp of the mean KL divergence to the split's marginal; torch-fidelity's
  shuffle, splits and std by default, torchmetrics' `InceptionScore()` (what the paper ran) with the
  paper's conventions (`inception_score`).
"""

from __future__ import annotations

import io

import numpy as np

CLIP_SCALES = ("cosine", "x100")
FID_PREPROCESSING = ("pytorch-fid", "torch-fidelity")
PAPER_JPEG_QUALITY = 75
IS_SPLITS = 10
IS_CONVENTIONS = ("torch-fidelity", "torchmetrics")
TORCH_FIDELITY_IS_SEED = 2020  # torch-fidelity's default `rng_seed`


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


def inception_score(
    logits, splits: int = IS_SPLITS, convention: str = "torch-fidelity", seed: int = 0, shuffle: bool = True
) -> tuple[float, float]:
    """(mean, std) Inception Score from Inception logits (N, classes), as `convention` computes it.

    Both shuffle the samples before splitting, so the splits are not runs of neighbouring samples:
    * "torch-fidelity": NumPy `RandomState(2020)` permutation, split i = rows i*N//splits ..
      (i+1)*N//splits, float64, population std (`np.std`).
    * "torchmetrics" (the paper's `InceptionScore()`): `torch.randperm` (the paper drew it from the
      global RNG; here from a generator seeded with `seed`, so a rerun gives the same score),
      `torch.chunk` splits (ceil(N/splits) rows each), the features' float32, unbiased std (`Tensor.std`).

    `shuffle=False` keeps the given order (known-answer tests).
    """
    import torch

    if convention not in IS_CONVENTIONS:
        raise ValueError(f"unknown Inception Score convention {convention!r}; use one of {IS_CONVENTIONS}")
    fidelity = convention == "torch-fidelity"
    logits = torch.as_tensor(logits, dtype=torch.float64 if fidelity else torch.float32)
    if logits.ndim != 2 or logits.shape[0] < splits:
        raise ValueError(f"need at least {splits} samples of logits (N, classes), got {tuple(logits.shape)}")
    n = logits.shape[0]
    if shuffle and fidelity:
        logits = logits[torch.from_numpy(np.random.RandomState(TORCH_FIDELITY_IS_SEED).permutation(n))]
    elif shuffle:
        logits = logits[torch.randperm(n, generator=torch.Generator().manual_seed(seed))]
    probabilities, log_probabilities = logits.softmax(dim=1), logits.log_softmax(dim=1)
    if fidelity:
        bounds = [(i * n // splits, (i + 1) * n // splits) for i in range(splits)]
        parts = [(probabilities[a:b], log_probabilities[a:b]) for a, b in bounds]
    else:
        parts = list(zip(probabilities.chunk(splits, dim=0), log_probabilities.chunk(splits, dim=0), strict=True))
    scores = torch.stack([_split_score(p, log_p) for p, log_p in parts])
    if fidelity:
        values = scores.numpy()
        return float(values.mean()), float(values.std())
    return float(scores.mean()), float(scores.std())


def _split_score(p, log_p):
    """exp(mean KL(p || marginal)); a class no sample of the split gives any probability adds 0 (the
    libraries' 0 x log 0 would be NaN there, which only saturated logits reach)."""
    import torch

    kl = torch.where(p > 0, p * (log_p - p.mean(dim=0, keepdim=True).log()), torch.zeros_like(p))
    return kl.sum(dim=1).mean().exp()


def inception_score_from_pool_features(
    features, fc_weight, splits: int = IS_SPLITS, convention: str = "torch-fidelity", seed: int = 0
) -> tuple[float, float]:
    """Inception Score from stored 2048-d pool features and the Inception classifier's weight (no bias:
    both libraries' "logits_unbiased"), in the precision the convention computes logits in."""
    import torch

    dtype = torch.float64 if convention == "torch-fidelity" else torch.float32
    pool = torch.as_tensor(np.asarray(features), dtype=dtype)
    weight = torch.as_tensor(fc_weight, dtype=dtype)
    return inception_score(pool @ weight.T, splits=splits, convention=convention, seed=seed)
