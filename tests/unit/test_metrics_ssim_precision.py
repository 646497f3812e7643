"""SSIM in float32 (the default, fast on a GPU) agrees with float64 within 1e-4, batched or not."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from core.dataset.reader import read_dataset
from core.metrics.pixel import ssim, ssim_batch
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared


def _nchw(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)


@pytest.fixture(scope="module")
def pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Real scenes against other real scenes, noisy copies of themselves, and the hard extremes."""
    dataset = read_dataset(require_shared(ECOMAPPER_EXAMPLE))
    images = [dataset[i].image for i in range(0, len(dataset), 10)]
    rng = np.random.default_rng(0)
    result = list(itertools.pairwise(images))
    for image in images[:4]:
        noisy = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
        result.append((image, noisy))
    shape = images[0].shape
    bright = np.full(shape, 250, np.uint8)
    bright[::2] = 255  # bright and nearly flat: large squares, tiny variances
    result += [(bright, np.full(shape, 253, np.uint8)), (np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8))]
    return result


def test_float32_ssim_is_within_1e4_of_float64(pairs):
    real = _nchw([a for a, _ in pairs])
    fake = _nchw([b for _, b in pairs])
    single = ssim_batch(real, fake)
    double = ssim_batch(real, fake, dtype=torch.float64)
    assert single.dtype == double.dtype == torch.float64
    assert float((single - double).abs().max()) < 1e-4
    assert float(double.min()) < 0.1 and float(double.max()) > 0.9  # the pairs span the range
    # one pair at a time (the public function) gives the batch's values
    for (a, b), value in zip(pairs, single.tolist(), strict=True):
        assert ssim(a, b) == pytest.approx(value, abs=1e-6)
