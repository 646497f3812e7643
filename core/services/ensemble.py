"""Ensembles: the one request run for N seeds, today and under its scenario, and how sure the change is.

Composed from the request (the base request + the seeds that vary), never a request class of its own.
Writes, beside the image: `<stem>-change.png` (mean change scenario - today, diverging colours),
`<stem>-spread.png` (standard deviation of the change across seeds) and `<stem>-change.json`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.generation.ensemble import MAX_SAMPLES, MIN_SAMPLES, ChangeStatistics, change_statistics
from core.generation.greenness import greenness_summary
from core.generation.request import MAX_SEED, GenerationRequest
from core.generation.runs import ProgressCallback
from core.services.generate import GenerateResult, check_runnable, generate
from core.services.models import check_engine_matches, load_engine


@dataclass(frozen=True)
class EnsembleResult:
    """N paired samples (today[k] and scenario[k] share seed k) and their statistics."""

    request: GenerationRequest
    today: list[GenerateResult]
    scenario: list[GenerateResult]
    statistics: ChangeStatistics
    greenness: dict[str, Any]
    real: np.ndarray | None = field(default=None, repr=False)
    real_problem: str | None = None

    @property
    def seeds(self) -> list[int]:
        return [result.request.seed for result in self.scenario]

    @property
    def agreement_sentence(self) -> str:
        """The agreement in one sentence a teacher can read."""
        stats = self.statistics.as_dict()
        needed = int(np.ceil(0.8 * self.statistics.samples - 1e-9))
        return (
            f"On {stats['agreement']:.0%} of the pixels at least {needed} of {stats['samples']} samples agree "
            f"whether '{self.request.scenario.label}' makes the place brighter, darker or leaves it alone."
        )

    def summary(self) -> dict[str, Any]:
        """What `<stem>-change.json` holds: the statistics, seeds, scenario, mode, greenness and their meaning."""
        return {
            **self.statistics.as_dict(),
            "seeds": self.seeds,
            "mode": self.request.mode,
            "scenario": self.request.scenario.label,
            "units": "0-255 pixel values, averaged over pixels (and channels)",
            "change": "scenario minus today from the same seed, averaged over samples",
            "spread": "per-pixel standard deviation across samples of that change (0: every seed agrees)",
            "agreement_rule": "share of pixels where at least 80 % of the samples agree on the sign of the "
            "brightness change (no change counts as one sign)",
            "agreement_sentence": self.agreement_sentence,
            "greenness": self.greenness,
            "real_problem": self.real_problem,
            "warnings": sorted({w for r in self.today + self.scenario for w in r.warnings}),
        }


def ensemble_requests(request: GenerationRequest, samples: int) -> list[GenerationRequest]:
    """The request for each sample: the same request with seeds seed, seed + 1, ... (the one thing that varies)."""
    if isinstance(samples, bool) or not isinstance(samples, int) or not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise BadRequestError(
            f"{samples!r} samples is not a whole number from {MIN_SAMPLES} to {MAX_SAMPLES}.",
            "Use e.g. --samples 5 (a spread needs at least 2).",
        )
    if request.seed + samples - 1 > MAX_SEED:
        raise BadRequestError(f"Seeds from {request.seed} run past 2^63-1.", "Start from a smaller --seed.")
    return [request.replace(seed=request.seed + k) for k in range(samples)]


def run_ensemble(
    request: GenerationRequest,
    samples: int,
    settings: Settings,
    *,
    engine: Any = None,
    real_image: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> EnsembleResult:
    """Generate `samples` seeds of today and of the scenario, and the statistics of their paired change.

    With the scenario "today" the scenario images are today's (the same request makes the same pixels),
    so change and spread are 0 by construction; `mean_spread_scenario` still tells how much the seed alone
    decides the picture (0 in mode edit, where today is the real image itself).

    Args:
        request: the scenario request; its seed is the first sample's.
        samples: how many seeds (2..64).
        real_image: the real image of the month for the greenness index (fetched if None; none: noted).
        progress, cancel: as in `generate` (progress counts every image).
    """
    check_runnable(request)
    requests = ensemble_requests(request, samples)
    engine = engine or load_engine(request.model, settings)
    check_engine_matches(engine, request.model)
    runs = 1 if request.scenario.is_today else 2
    steps = request.num_inference_steps or 1
    total = samples * runs * steps

    def part(index: int) -> ProgressCallback | None:
        if progress is None:
            return None
        return lambda step, _total, message: progress(index * steps + step, total, f"sample {message}")

    today, scenario = [], []
    for k, sample in enumerate(requests):
        today.append(
            generate(
                sample.replace(scenario=Scenario.today()),
                settings,
                engine=engine,
                progress=part(runs * k),
                cancel=cancel,
            )
        )
        scenario.append(
            today[-1]
            if runs == 1
            else generate(sample, settings, engine=engine, progress=part(runs * k + 1), cancel=cancel)
        )
    statistics = change_statistics([r.image for r in today], [r.image for r in scenario])
    real, real_problem = _real_image(request, settings, real_image)
    greenness = greenness_summary([r.image for r in today], [r.image for r in scenario], real)
    return EnsembleResult(request, today, scenario, statistics, greenness, real, real_problem)


def _real_image(request: GenerationRequest, settings: Settings, given: np.ndarray | None):
    if given is not None:
        return np.asarray(given, dtype=np.uint8), None
    from core.services.observe import fetch_real_scene

    try:
        return fetch_real_scene(request.point, request.month, settings).image, None
    except EcoMapperError as err:
        return None, str(err)


def ensemble_paths(out: str | os.PathLike) -> dict[str, Path]:
    """Where the ensemble's files go beside `out`: <stem>-change.png, <stem>-spread.png, <stem>-change.json."""
    target = Path(out)
    stem = target.with_suffix("")
    return {
        "change_png": Path(f"{stem}-change.png"),
        "spread_png": Path(f"{stem}-spread.png"),
        "change_json": Path(f"{stem}-change.json"),
    }


def write_ensemble(result: EnsembleResult, out: str | os.PathLike) -> dict[str, Path]:
    """Write the change map, the spread map and the statistics beside `out`; returns their paths."""
    from core.export.change_maps import write_change_map, write_spread_map
    from core.io.files import atomic_write_json

    paths = ensemble_paths(out)
    stats = result.statistics
    title = f"{result.scenario[0].label}"
    write_change_map(stats.brightness_change, paths["change_png"], samples=stats.samples, title=title)
    write_spread_map(stats.spread, paths["spread_png"], samples=stats.samples, title=title)
    atomic_write_json(paths["change_json"], result.summary())
    return paths


def change_overlay(result: EnsembleResult) -> np.ndarray:
    """The mean brightness change in the change map's colours (uint8, no legend): for drawing on a map."""
    from core.export.change_maps import change_colours

    return change_colours(result.statistics.brightness_change)


__all__ = ["EnsembleResult", "change_overlay", "ensemble_paths", "ensemble_requests", "run_ensemble", "write_ensemble"]
