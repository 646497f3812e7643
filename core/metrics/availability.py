"""Which metrics can run on this machine now (weights present locally), without loading anything."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.errors import EcoMapperError
from core.metrics.weights import ALEXNET, INCEPTION_FID, LPIPS_ALEX_HEADS, resolve_clip_dir, resolve_weight_file

METRIC_NAMES = ("fid", "lpips", "ssim", "psnr", "clip")
# Direction of "better", for table headers and plots.
HIGHER_IS_BETTER = {"fid": False, "lpips": False, "ssim": True, "psnr": True, "clip": True}
METRIC_LABELS = {"fid": "FID", "lpips": "LPIPS", "ssim": "SSIM", "psnr": "PSNR (dB)", "clip": "CLIP score"}


@dataclass(frozen=True)
class MetricAvailability:
    name: str
    available: bool
    reason: str = ""


def available_metrics(settings: Settings) -> dict[str, MetricAvailability]:
    """For each metric, whether its weights are on this machine (no download is attempted).

    SSIM and PSNR need no weights; FID needs the Inception file; LPIPS the AlexNet file and the
    LPIPS heads; CLIP score the CLIP ViT-B/16 model. The app hides what is unavailable and says why.
    """
    result = {
        "ssim": MetricAvailability("ssim", True),
        "psnr": MetricAvailability("psnr", True),
    }
    for name, specs in (("fid", (INCEPTION_FID,)), ("lpips", (ALEXNET, LPIPS_ALEX_HEADS))):
        try:
            for spec in specs:
                resolve_weight_file(spec, settings, download=False)
            result[name] = MetricAvailability(name, True)
        except EcoMapperError as err:
            result[name] = MetricAvailability(name, False, str(err))
    try:
        resolve_clip_dir(settings, download=False)
        result["clip"] = MetricAvailability("clip", True)
    except EcoMapperError as err:
        result["clip"] = MetricAvailability("clip", False, str(err))
    return {name: result[name] for name in METRIC_NAMES}
