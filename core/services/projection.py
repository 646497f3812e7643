"""Projected climate for the app and the CLI: an SSP x horizon at a place -> the CMIP6 projection and its Scenario.

The app's picker offers `SSP_CHOICES` x `HORIZON_CHOICES`; `projected_climate` runs the ensemble
projection (catalog, chunks and results cached on disk) and gives the Scenario that generate and
time-lapse requests take, plus the 12-month table the climate chart draws (observed normal, median,
10th-90th percentile spread). Importing this module does not import zarr, xarray or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.climate.scenario import Scenario
from core.config import Settings
from core.geo import Point
from core.sources.projections.periods import NAMED_HORIZONS, SSPS

# (label shown, value) pairs for a dropdown, and the paper's horizons.
SSP_CHOICES: tuple[tuple[str, str], ...] = tuple((f"{label} ({ssp})", ssp) for ssp, label in SSPS.items())
HORIZON_CHOICES: tuple[int, ...] = tuple(NAMED_HORIZONS)
VARIABLES = ("temp_c", "precip_mm_day", "solar_mj_m2_day")


@dataclass(frozen=True)
class ProjectedClimate:
    """A place's projection, the Scenario made from it, and what a chart needs."""

    projection: Any  # core.sources.projections.Projection
    scenario: Scenario

    @property
    def label(self) -> str:
        return self.scenario.label

    def monthly_table(self) -> list[dict[str, Any]]:
        """Per calendar month: observed normal and the ensemble median, p10 and p90 of each variable."""
        stats = self.projection.statistics()
        rows = []
        for i in range(12):
            row: dict[str, Any] = {"month": i + 1}
            for k, name in enumerate(VARIABLES):
                row[f"{name}_observed"] = getattr(self.projection.observed[i], name)
                for statistic in ("median", "p10", "p90"):
                    row[f"{name}_{statistic}"] = float(stats[statistic][i][k])
            rows.append(row)
        return rows

    def summary(self) -> str:
        """One line: 'SSP2-4.5 2050 (2041-2060): median of 3 CMIP6 models (ECO-A, ...); left out: ...'."""
        p = self.projection
        text = (
            f"{self.label} ({p.period.start_year}-{p.period.end_year}): median and 10-90 % spread of "
            f"{len(p.models)} CMIP6 model(s) ({', '.join(m.source_id for m in p.models)})"
        )
        if p.skipped:
            text += f"; left out: {', '.join(sorted(p.skipped))}"
        return text


def projected_climate(
    point: Point,
    ssp: str,
    horizon: int,
    settings: Settings,
    *,
    statistic: str = "median",
    observed=None,
    observed_years: tuple[int, int] = (1995, 2014),
    progress=None,
) -> ProjectedClimate:
    """The CMIP6 ensemble projection of `point` for `ssp` and `horizon`, and its Scenario.

    Raises:
        BadRequestError: unknown SSP or statistic, horizon outside 2015-2100, a point at sea.
        UpstreamError: the catalog or the stores cannot be reached and nothing is cached.
    """
    from core.climate.projection import scenario_from_projection
    from core.sources.projections import check_statistic, project_climate

    check_statistic(statistic)
    projection = project_climate(
        point, ssp, horizon, settings, observed=observed, observed_years=observed_years, progress=progress
    )
    return ProjectedClimate(projection, scenario_from_projection(projection, statistic))


def horizon_years(year: int) -> list[int]:
    """The paper's horizons up to `year`, and `year` itself (the frames after "today")."""
    from core.climate.projection import HORIZON_FRAMES

    return sorted({h for h in HORIZON_FRAMES if h <= year} | {year})


def make_horizon_timelapse(
    base: Any,
    ssp: str,
    year: int,
    settings: Settings,
    out: str | Path,
    *,
    engine: Any = None,
    statistic: str = "median",
    observed_years: tuple[int, int] = (1995, 2014),
    known: dict[int, Any] | None = None,
    fps: float = 1.0,
    progress=None,
) -> Path:
    """ "today -> 2050 -> ... -> `year`": `base` (a GenerationRequest with its observed climate) generated under
    today and the CMIP6 projection of each horizon (same seed), written as a captioned GIF / MP4.

    Args:
        known: projections already computed, by horizon (not fetched again).
    """
    from core.climate.projection import scenario_from_projection
    from core.generation.projection_timelapse import generate_horizon_frames, write_horizon_timelapse
    from core.services.generate import check_runnable
    from core.services.models import load_engine
    from core.sources.projections import project_climate

    check_runnable(base)
    scenarios = [Scenario.today()]
    for horizon in horizon_years(year):
        projection = (known or {}).get(horizon) or project_climate(
            base.point, ssp, horizon, settings, observed_years=observed_years
        )
        scenarios.append(scenario_from_projection(projection, statistic))
    engine = engine or load_engine(base.model, settings)
    frames = generate_horizon_frames(base, tuple(scenarios), engine, settings, progress=progress)
    return write_horizon_timelapse(frames, out, fps=fps)
