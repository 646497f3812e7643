"""A "today -> 2050 -> 2075 -> 2100" time-lapse: one month of a place, generated under each horizon of an SSP.

Every frame is the same request (place, month, land cover, seed) with the observed climate kept and
the scenario changed: today, then the CMIP6 projection of each horizon. The projection runs once
per horizon (cached on disk), so a second time-lapse of the place costs no download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.climate.projection import HORIZON_FRAMES, scenario_from_projection
from core.climate.scenario import Scenario
from core.config import Settings
from core.export.timelapse import caption_for, write_timelapse
from core.generation.request import GenerationRequest
from core.generation.runs import GenerationResult, ProgressCallback, generate_images


@dataclass(frozen=True)
class HorizonFrames:
    scenarios: tuple[Scenario, ...]  # today first
    results: tuple[GenerationResult, ...]

    @property
    def captions(self) -> list[str]:
        return [
            caption_for(r.request.month, r.request.climate, "today" if s.is_today else s.label)
            for s, r in zip(self.scenarios, self.results, strict=True)
        ]


def horizon_scenarios(
    base: GenerationRequest,
    ssp: str,
    settings: Settings,
    horizons: tuple[int, ...] = HORIZON_FRAMES,
    statistic: str = "median",
    **project_kw,
) -> tuple[Scenario, ...]:
    """Scenario.today() and one projection scenario per horizon for the request's place."""
    from core.sources.projections import project_climate

    scenarios = [Scenario.today()]
    for horizon in horizons:
        projection = project_climate(base.point, ssp, horizon, settings, **project_kw)
        scenarios.append(scenario_from_projection(projection, statistic))
    return tuple(scenarios)


def generate_horizon_frames(
    base: GenerationRequest,
    scenarios: tuple[Scenario, ...],
    engine,
    settings: Settings,
    progress: ProgressCallback | None = None,
) -> HorizonFrames:
    """One generated frame per scenario (same seed), from `base` with its observed climate.

    Raises:
        BadRequestError: `base` has no observed climate to change.
    """
    from core.errors import BadRequestError

    if base.observed_climate is None:
        raise BadRequestError(
            "A horizon time-lapse needs the observed climate of the month.", "Set observed_climate on the request."
        )
    results = []
    for index, scenario in enumerate(scenarios, start=1):
        results.append(generate_images(base.replace(scenario=scenario), engine, settings))
        if progress:
            progress(index, len(scenarios), scenario.label)
    return HorizonFrames(tuple(scenarios), tuple(results))


def write_horizon_timelapse(frames: HorizonFrames, path: str | Path, fps: float = 1) -> Path:
    return write_timelapse([r.image for r in frames.results], frames.captions, path, fps=fps)
