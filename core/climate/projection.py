"""Resolving a CMIP6 projection at a place into a "projection" `Scenario`.

    scenario = projection_scenario(point, "ssp245", 2050, settings)      # runs the projection once
    scenario.apply(observed_july_2023, Month(2023, 7))                   # July's ensemble change

The monthly changes are the ensemble statistic (median, p10 or p90) of the projected normals
against the observed normals (temperature and radiation added, precipitation in percent), so a
scenario applied to the observed normal gives back exactly the projected value. They are stored in
the scenario (and its JSON, `core.climate.projected_change`), so a recipe replays without the network.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from core.climate.change import PRECIP_CHANGE_PCT_RANGE, ClimateChange
from core.climate.projected_change import KIND, ProjectedChange
from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.sources.projections.periods import check_statistic

if TYPE_CHECKING:
    from core.config import Settings
    from core.geo import Point
    from core.sources.projections.project import Projection

log = logging.getLogger(__name__)

HORIZON_FRAMES = (2050, 2075, 2100)  # the paper's horizons, the frames of a "today -> 2100" time-lapse


def change_between(observed: ClimateValues, projected: ClimateValues) -> ClimateChange:
    """The `ClimateChange` that turns `observed` into `projected` (precipitation as a percentage)."""
    if observed.precip_mm_day > 0:
        pct = (projected.precip_mm_day / observed.precip_mm_day - 1.0) * 100.0
    else:
        pct = 0.0  # nothing to scale: a rainless normal stays rainless under a ratio
    low, high = PRECIP_CHANGE_PCT_RANGE
    if not low <= pct <= high:
        log.warning("precipitation change %.0f %% clipped to %g..%g %%", pct, low, high)
        pct = min(max(pct, low), high)
    return ClimateChange(projected.temp_c - observed.temp_c, pct, projected.solar_mj_m2_day - observed.solar_mj_m2_day)


def scenario_from_projection(projection: Projection, statistic: str = "median", name: str = "") -> Scenario:
    """A "projection" Scenario from a computed `Projection` (no network)."""
    check_statistic(statistic)
    monthly = tuple(change_between(projection.observed[i], projection.values(i + 1, statistic)) for i in range(12))
    return Scenario(
        kind=KIND,
        name=name,
        projection=ProjectedChange(
            ssp=projection.ssp,
            horizon=projection.period.horizon,
            statistic=statistic,
            monthly=monthly,
            latitude=projection.point.lat,
            longitude=projection.point.lon,
            models=tuple(m.source_id for m in projection.models),
        ),
    )


def projection_scenario(
    point: Point, ssp: str, horizon: int, settings: Settings, statistic: str = "median", **kw: Any
) -> Scenario:
    """Project the place's climate (CMIP6 ensemble, delta method) and make it a Scenario.

    Extra keyword arguments go to `core.sources.projections.project_climate` (client, observed,
    observed_years, progress). Raises what `project_climate` raises.
    """
    from core.sources.projections import project_climate

    check_statistic(statistic)
    return scenario_from_projection(project_climate(point, ssp, horizon, settings, **kw), statistic)

__all__ = [
    "HORIZON_FRAMES",
    "KIND",
    "ProjectedChange",
    "change_between",
    "projection_scenario",
    "scenario_from_projection",
]
