"""Compare "today" with a scenario: the same seed under the observed and the scenario climate, each
scored against the real image of the month with the shared metric suite (core.metrics.suite)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.config import Settings
from core.errors import EcoMapperError
from core.generation.greenness import greenness_summary
from core.generation.request import GenerationRequest
from core.generation.runs import ProgressCallback
from core.metrics.suite import HOW_TO_READ, MetricSuite
from core.services.generate import GenerateResult, generate
from core.services.models import load_engine


@dataclass(frozen=True)
class Comparison:
    """Today vs scenario at one place and month.

    Attributes:
        today: the image under the observed climate.
        scenario: the image under the request's scenario (same seed); `today` itself when the
            scenario is "today".
        real: the real image of the month (uint8), or None; `real_problem` says why not.
        metrics: {"today": {...}, "scenario": {...}} display name -> value or "n/a: why" (empty without
            a real image).
        values: the same as raw numbers by metric name ("ssim", "psnr", ...).
        versus_today: SSIM and PSNR of the scenario image against today's (how much the climate
            alone changed the picture; 1.0 / inf when the scenario is today).
        how_to_read: one line on reading the numbers.
        greenness: the RGB greenness index (ExG) of real, today and scenario and their changes, with its
            caveat (`core.generation.greenness.greenness_summary`).
    """

    today: GenerateResult
    scenario: GenerateResult
    real: np.ndarray | None = field(default=None, repr=False)
    real_problem: str | None = None
    metrics: dict[str, dict[str, float | str]] = field(default_factory=dict)
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    versus_today: dict[str, float] = field(default_factory=dict)
    how_to_read: str = HOW_TO_READ
    greenness: dict[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> float:
        """Mean absolute pixel difference (0..255) between today and the scenario: 0 = climate changed nothing."""
        return float(np.abs(self.today.image.astype(np.int16) - self.scenario.image.astype(np.int16)).mean())


def compare(
    request: GenerationRequest,
    settings: Settings,
    *,
    engine: Any = None,
    real_image: np.ndarray | None = None,
    suite: MetricSuite | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Comparison:
    """Generate today and the scenario from one seed and score both against the real image.

    Args:
        request: the scenario request (its `observed_climate` is "today").
        settings: endpoints, checkpoints.
        engine: an engine for `request.model` (loaded if None; both images use it).
        real_image: the real image of the month when the caller has it (else fetched; a month
            without a scene gives `real=None` and the reason, not an error).
        suite: a metric suite to reuse (keeps its networks loaded); `MetricSuite.for_pairs` if None.
        progress, cancel: as in `generate` (progress counts both images).
    """
    from core.services.observe import fetch_real_scene

    engine = engine or load_engine(request.model, settings)
    steps = request.num_inference_steps
    runs = 1 if request.scenario.is_today else 2

    def part(offset: int) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda step, _total, message: progress(offset + step, runs * steps, message)

    today = generate(request.replace(scenario=Scenario.today()), settings, engine=engine, progress=part(0),
                     cancel=cancel)  # fmt: skip
    changed = today if runs == 1 else generate(request, settings, engine=engine, progress=part(steps), cancel=cancel)
    from core.metrics.pixel import psnr, ssim

    versus_today = {"ssim": ssim(today.image, changed.image), "psnr": psnr(today.image, changed.image)}
    real, real_problem = real_image, None
    if real is None:
        try:
            real = fetch_real_scene(request.point, request.month, settings).image
        except EcoMapperError as err:
            real_problem = str(err)
    if real is None:
        return Comparison(today=today, scenario=changed, real_problem=real_problem, versus_today=versus_today,
                          greenness=greenness_summary(today.image, changed.image))  # fmt: skip
    real = np.asarray(real, dtype=np.uint8)
    suite = suite or MetricSuite.for_pairs(settings)
    values = {name: suite.score(real, result.image, result.prompts.spatial)[0]
              for name, result in (("today", today), ("scenario", changed))}  # fmt: skip
    return Comparison(
        today=today,
        scenario=changed,
        real=real,
        metrics={name: suite.labelled(v) for name, v in values.items()},
        values=values,
        versus_today=versus_today,
        greenness=greenness_summary(today.image, changed.image, real),
    )
