"""One metric suite for every comparison of a generated image with the real one: the evaluation's
tables and the app's / `compare` service's numbers come from this same code.

Weights are located up front (so callers know which metrics exist and why others do not); the
networks load on first use and are kept, so later comparisons reuse them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.metrics.availability import HIGHER_IS_BETTER, METRIC_LABELS, METRIC_NAMES

log = logging.getLogger(__name__)

# One line on how to read the pair metrics (shown next to the numbers).
HOW_TO_READ = (
    "SSIM (0..1) and PSNR (dB) measure pixel likeness to the real image: higher is closer. They reward "
    "matching layout and brightness, not realism; the same seed under another climate shows what the "
    "climate alone changes."
)
# Metrics of one pair of images (FID needs a whole set).
PAIR_METRICS = ("lpips", "ssim", "psnr", "clip")


def match_size(fake: np.ndarray, real: np.ndarray) -> np.ndarray:
    """`fake` resized (bicubic) to the real image's height and width when they differ."""
    if fake.shape == real.shape:
        return fake
    from PIL import Image

    resized = Image.fromarray(fake).resize((real.shape[1], real.shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(resized, dtype=np.uint8)


class MetricSuite:
    """The metrics to compute and their networks.

    Args:
        settings: checkpoints folder, offline mode.
        metrics: names from `METRIC_NAMES` to compute; None = every one whose weights can be found.
        download: allow downloading missing weights (never when `settings.offline`).
        strict: raise when a metric asked for by name has no weights (None for `metrics` is never strict).
        inception_weights, alexnet_weights, lpips_heads, clip_model: explicit weight locations.
        clip_scale: "cosine" (the EcoMapper paper's 0.32-0.40) or "x100" (torchmetrics').
        fid_preprocessing: Inception input, "pytorch-fid" or "torch-fidelity" (the paper's).

    Attributes:
        names: the metrics that will be computed, in `METRIC_NAMES` order.
        unavailable: metric -> why it is not computed.
        device: where the networks run (set it before the first score, e.g. to the generation device).
    """

    def __init__(
        self,
        settings: Settings,
        metrics: Sequence[str] | None = None,
        *,
        download: bool = False,
        strict: bool | None = None,
        inception_weights: Path | None = None,
        alexnet_weights: Path | None = None,
        lpips_heads: Path | None = None,
        clip_model: Path | None = None,
        clip_scale: str = "cosine",
        fid_preprocessing: str = "pytorch-fid",
    ) -> None:
        from core.metrics.weights import ALEXNET, INCEPTION_FID, LPIPS_ALEX_HEADS, resolve_clip_dir, resolve_weight_file

        if metrics is not None:
            unknown = [m for m in metrics if m not in METRIC_NAMES]
            if unknown or not metrics:
                raise BadRequestError(f"Unknown metrics {unknown}.", f"Choose from {', '.join(METRIC_NAMES)}.")
        strict = metrics is not None if strict is None else strict
        self.settings = settings
        self.device = "cpu"
        self.clip_scale = clip_scale
        self.fid_preprocessing = fid_preprocessing
        self.unavailable: dict[str, str] = {}
        self._paths: dict[str, tuple] = {}
        self._networks: dict[str, Any] = {}
        wanted = tuple(metrics) if metrics is not None else METRIC_NAMES
        download = download and not settings.offline
        locators = {
            "fid": lambda: (resolve_weight_file(INCEPTION_FID, settings, inception_weights, download=download),),
            "lpips": lambda: (
                resolve_weight_file(ALEXNET, settings, alexnet_weights, download=download),
                resolve_weight_file(LPIPS_ALEX_HEADS, settings, lpips_heads, download=download),
            ),
            "clip": lambda: (resolve_clip_dir(settings, clip_model, download=download),),
        }
        for name, locate in locators.items():
            if name not in wanted:
                continue
            try:
                self._paths[name] = locate()
            except EcoMapperError as err:
                if strict:  # asked for explicitly: fail loudly
                    raise
                self.unavailable[name] = str(err)
                log.warning("%s is not computed: %s", name, err)
        self.names = tuple(n for n in METRIC_NAMES if n in wanted and n not in self.unavailable)

    @classmethod
    def for_pairs(cls, settings: Settings) -> MetricSuite:
        """The pair metrics available on this machine now (no download): SSIM and PSNR always."""
        return cls(settings, PAIR_METRICS, strict=False)

    def _network(self, name: str):
        if name not in self._networks:
            paths = self._paths[name]
            if name == "fid":
                from core.metrics.fid import FidMetric

                self._networks[name] = FidMetric(
                    self.settings, paths[0], device=self.device, download=False, preprocessing=self.fid_preprocessing
                )
            elif name == "lpips":
                from core.metrics.lpips import LpipsMetric

                self._networks[name] = LpipsMetric(
                    self.settings, paths[0], paths[1], device=self.device, download=False
                )
            else:
                from core.metrics.clip_score import ClipScoreMetric

                self._networks[name] = ClipScoreMetric(
                    self.settings, paths[0], device=self.device, download=False, scale=self.clip_scale
                )
        return self._networks[name]

    def score(self, real: np.ndarray, fake: np.ndarray, prompt: str) -> tuple[dict[str, float], tuple | None]:
        """Every metric of the suite for one real / generated pair.

        `fake` is resized to `real` first (bicubic). CLIP score compares `fake` with `prompt`.

        Returns:
            (values by metric name, (real, fake) Inception features when FID is in the suite, else None).
        """
        return self.score_batch([real], [fake], [prompt])[0]

    def score_batch(
        self, reals: Sequence[np.ndarray], fakes: Sequence[np.ndarray], prompts: Sequence[str]
    ) -> list[tuple[dict[str, float], tuple | None]]:
        """`score` of each (real, fake, prompt), each network run once over the whole batch.

        Pairs of one size are stacked (SSIM / PSNR / LPIPS / FID in one pass each); a batch of
        mixed sizes is scored pair by pair.
        """
        import torch

        from core.metrics.pixel import psnr_batch, ssim_batch

        fakes = [match_size(np.asarray(fake, dtype=np.uint8), real) for fake, real in zip(fakes, reals, strict=True)]
        values: list[dict[str, float]] = [{} for _ in reals]
        features: list[tuple | None] = [None] * len(reals)
        same_size = len({image.shape for image in reals}) == 1
        groups = [list(range(len(reals)))] if same_size else [[i] for i in range(len(reals))]
        for group in groups:
            real = np.stack([reals[i] for i in group])
            fake = np.stack([fakes[i] for i in group])
            if "ssim" in self.names or "psnr" in self.names:
                a = torch.from_numpy(real).permute(0, 3, 1, 2).to(self.device)
                b = torch.from_numpy(fake).permute(0, 3, 1, 2).to(self.device)
                if "ssim" in self.names:
                    for i, value in zip(group, ssim_batch(a, b).tolist(), strict=True):
                        values[i]["ssim"] = value
                if "psnr" in self.names:
                    for i, value in zip(group, psnr_batch(a, b).tolist(), strict=True):
                        values[i]["psnr"] = value  # +inf for identical images
            if "lpips" in self.names:
                for i, value in zip(group, self._network("lpips").score(real, fake).tolist(), strict=True):
                    values[i]["lpips"] = float(value)
            if "fid" in self.names:
                # real and generated images in one pass
                both = self._network("fid").features(np.concatenate([real, fake]))
                for k, i in enumerate(group):
                    features[i] = (both[k], both[len(group) + k])
        if "clip" in self.names:
            for i, value in enumerate(self._network("clip").score(list(fakes), list(prompts)).tolist()):
                values[i]["clip"] = float(value)
        return list(zip(values, features, strict=True))

    def labelled(self, values: dict[str, float]) -> dict[str, float | str]:
        """Values under display names ('SSIM (higher is closer)'), with 'n/a: why' for missing metrics."""
        shown: dict[str, float | str] = {}
        for name in METRIC_NAMES:
            if name == "fid" or (name not in values and name not in self.unavailable):
                continue
            direction = "higher" if HIGHER_IS_BETTER[name] else "lower"
            label = f"{METRIC_LABELS[name]} ({direction} is closer)"
            shown[label] = values[name] if name in values else f"n/a: {self.unavailable[name]}"
        return shown
