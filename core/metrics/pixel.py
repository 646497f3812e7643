"""SSIM and PSNR between a real and a generated RGB image (the paper's structural metrics).

SSIM follows Wang et al. (2004) as scikit-image computes it with `win_size=7` and no Gaussian
weighting: a uniform 7 x 7 window, sample covariances (N / (N - 1)), the valid region only
(3 px border dropped) and the mean over channels. Written with torch pooling so a batch runs as
one tensor op; it agrees with `skimage.metrics.structural_similarity` to float precision.
"""

from __future__ import annotations

import math

import numpy as np

from core.errors import BadRequestError

SSIM_WIN_SIZE = 7
DATA_RANGE = 255.0
# Wang et al.'s stabilising constants K1, K2.
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_pair(real: np.ndarray, fake: np.ndarray) -> None:
    for name, image in (("real", real), ("generated", fake)):
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3:
            shape = getattr(image, "shape", type(image).__name__)
            raise BadRequestError(f"The {name} image has shape {shape}.", "Pass RGB arrays of shape H x W x 3.")
    if real.shape != fake.shape:
        raise BadRequestError(
            f"The images differ in size: {real.shape} vs {fake.shape}.", "Resize one to the other before comparing."
        )
    if min(real.shape[:2]) < SSIM_WIN_SIZE:
        raise BadRequestError(
            f"Images of {real.shape[:2]} px are smaller than the 7 px SSIM window.", "Use larger ones."
        )


def ssim_batch(real, fake, dtype=None):
    """SSIM per pair for batches (N, 3, H, W) of torch tensors in 0..255 (any dtype, any device).

    Computed in float32 by default (what a GPU is fast at), within 1e-5 of float64: the local
    variances are taken of values centred on the pair's mean brightness, so squares stay small
    and float32 keeps their differences; the final mean is accumulated in float64.

    Args:
        dtype: compute dtype (default torch.float32; torch.float64 for a reference).

    Returns:
        torch tensor (N,) float64.
    """
    import torch
    import torch.nn.functional as F

    dtype = dtype or torch.float32
    x = real.to(dtype)
    y = fake.to(dtype)
    n_pixels = SSIM_WIN_SIZE * SSIM_WIN_SIZE
    cov_norm = n_pixels / (n_pixels - 1)

    def mean(t):
        return F.avg_pool2d(t, SSIM_WIN_SIZE, stride=1)

    # one shift per image and channel, the same for both images: variances and covariance are
    # unchanged by it, and the luminance term gets the true means back below
    shift = (x.mean(dim=(2, 3), keepdim=True) + y.mean(dim=(2, 3), keepdim=True)) / 2
    xc, yc = x - shift, y - shift
    uxc, uyc = mean(xc), mean(yc)
    ux, uy = uxc + shift, uyc + shift
    vx = cov_norm * (mean(xc * xc) - uxc * uxc)
    vy = cov_norm * (mean(yc * yc) - uyc * uyc)
    vxy = cov_norm * (mean(xc * yc) - uxc * uyc)
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    ssim_map = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return ssim_map.to(torch.float64).mean(dim=(1, 2, 3))


def psnr_batch(real, fake):
    """PSNR in dB per pair for batches (N, 3, H, W) in 0..255; identical pairs give +inf."""
    import torch

    diff = real.to(torch.float64) - fake.to(torch.float64)
    mse = (diff * diff).mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(DATA_RANGE**2 / mse)


def _to_tensor(image: np.ndarray):
    import torch

    return torch.from_numpy(np.array(image, dtype=np.uint8, copy=True)).permute(2, 0, 1).unsqueeze(0)


def ssim(real: np.ndarray, fake: np.ndarray) -> float:
    """Structural similarity of two np.uint8 RGB images (H x W x 3), window 7, in [-1, 1]."""
    _check_pair(real, fake)
    return float(ssim_batch(_to_tensor(real), _to_tensor(fake))[0])


def psnr(real: np.ndarray, fake: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two np.uint8 RGB images (+inf when identical)."""
    _check_pair(real, fake)
    value = float(psnr_batch(_to_tensor(real), _to_tensor(fake))[0])
    return value if math.isfinite(value) else math.inf
