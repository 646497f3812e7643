"""Image-quality metrics of the EcoMapper paper: FID, LPIPS, SSIM, PSNR and CLIP score.

Importing this package stays light: torch and the networks load when a metric is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from core.metrics.availability import HIGHER_IS_BETTER, METRIC_LABELS, METRIC_NAMES, available_metrics

_LAZY = {
    "ssim": "core.metrics.pixel",
    "psnr": "core.metrics.pixel",
    "ssim_batch": "core.metrics.pixel",
    "psnr_batch": "core.metrics.pixel",
    "FidMetric": "core.metrics.fid",
    "fid_from_features": "core.metrics.fid",
    "LpipsMetric": "core.metrics.lpips",
    "ClipScoreMetric": "core.metrics.clip_score",
    "FidInceptionV3": "core.metrics.inception",
}

__all__ = ["HIGHER_IS_BETTER", "METRIC_LABELS", "METRIC_NAMES", "available_metrics", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'core.metrics' has no attribute {name!r}")
    return getattr(import_module(module), name)
