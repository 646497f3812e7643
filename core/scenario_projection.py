"""Scenario kind "projection": a CMIP6 SSP x horizon, resolved at a place into 12 monthly changes.

    scenario = projection_scenario(point, "ssp245", 2050, settings)      # runs the projection once
    scenario.apply(observed_july_2023, Month(2023, 7))                   # July's ensemble change

The monthly changes are the ensemble statistic (median, p10 or p90) of the projected normals
against the observed normals (temperature and radiation added, precipitation in percent), so a
scenario applied to the observed normal gives back exactly the projected value. They are stored in
the scenario (and its JSON), so a recipe replays without the network. Registered in
`core.scenario.SCENARIO_KINDS`; this module imports `core.scenario` only inside functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import BadRequestError
from core.sources.projections.periods import SSPS, check_ssp, check_statistic, period_for

if TYPE_CHECKING:
    from core.climate_values import ClimateValues
    from core.config import Settings
    from core.geo import Month, Point
    from core.scenario import ClimateChange, Scenario
    from core.sources.projections.project import Projection

log = logging.getLogger(__name__)

KIND = "projection"
HORIZON_FRAMES = (2050, 2075, 2100)  # the paper's horizons, the frames of a "today -> 2100" time-lapse


@dataclass(frozen=True)
class ProjectedChange:
    """What a projection scenario is: SSP, horizon, statistic, and its 12 changes (January first).

    Args:
        ssp: "ssp126" .. "ssp585" (other spellings are normalised).
        horizon: a year in 2015..2100.
        statistic: "median", "p10" or "p90" of the model ensemble.
        monthly: 12 `ClimateChange`s, January to December (from `projection_scenario`).
        latitude, longitude: the place the changes were resolved for.
        models: the CMIP6 models in the ensemble.
    """

    ssp: str
    horizon: int
    statistic: str = "median"
    monthly: tuple = ()
    latitude: float | None = None
    longitude: float | None = None
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from core.scenario import ClimateChange

        object.__setattr__(self, "ssp", check_ssp(self.ssp))
        object.__setattr__(self, "horizon", period_for(self.horizon).horizon)
        check_statistic(self.statistic)
        monthly = tuple(self.monthly)
        if len(monthly) != 12 or not all(isinstance(c, ClimateChange) for c in monthly):
            raise BadRequestError(
                f"The projection scenario {SSPS[self.ssp]} {self.horizon} has {len(monthly)} monthly changes, not 12.",
                "Make it with core.scenario_projection.projection_scenario(point, ssp, horizon, settings).",
            )
        object.__setattr__(self, "monthly", monthly)
        object.__setattr__(self, "models", tuple(self.models))

    def label(self) -> str:
        text = f"{SSPS[self.ssp]} {self.horizon}"
        return text if self.statistic == "median" else f"{text} ({self.statistic})"


def change_between(observed: ClimateValues, projected: ClimateValues) -> ClimateChange:
    """The `ClimateChange` that turns `observed` into `projected` (precipitation as a percentage)."""
    from core.scenario import PRECIP_CHANGE_PCT_RANGE, ClimateChange

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
    from core.scenario import Scenario

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


class ProjectionKind:
    """Kind "projection" for `core.scenario.SCENARIO_KINDS`."""

    name = KIND

    def check(self, scenario: Scenario) -> None:
        if not isinstance(scenario.projection, ProjectedChange):
            raise BadRequestError(
                f"The projection scenario has no resolved projection ({scenario.projection!r}).",
                "Make it with core.scenario_projection.projection_scenario(point, ssp, horizon, settings).",
            )

    def change_for(self, scenario: Scenario, month: Month | None) -> ClimateChange:
        if month is None:
            raise BadRequestError(
                f"The scenario '{self.label(scenario)}' changes each calendar month differently; no month was given.",
                "Give the month the climate is for.",
            )
        return scenario.projection.monthly[month.month - 1]

    def label(self, scenario: Scenario) -> str:
        text = scenario.projection.label()
        return f"{scenario.name} ({text})" if scenario.name else text

    def to_dict(self, scenario: Scenario) -> dict[str, Any]:
        p = scenario.projection
        return {
            "name": scenario.name,
            "ssp": p.ssp,
            "horizon": p.horizon,
            "statistic": p.statistic,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "models": list(p.models),
            "monthly": [change.as_dict() for change in p.monthly],
        }

    def from_dict(self, data: Mapping[str, Any]) -> Scenario:
        from core.scenario import ClimateChange, Scenario

        known = {"kind", "label", "name", "ssp", "horizon", "statistic", "latitude", "longitude", "models", "monthly"}
        unknown = set(data) - known
        if unknown:
            raise BadRequestError(
                f"The projection scenario has unknown fields {sorted(unknown)}.", f"Give only {sorted(known)}."
            )
        monthly = data.get("monthly")
        if not isinstance(monthly, list) or not all(isinstance(m, Mapping) for m in monthly):
            raise BadRequestError("The projection scenario's 'monthly' is not a list of 12 changes.", "Re-export it.")
        return Scenario(
            kind=KIND,
            name=data.get("name") or "",
            projection=ProjectedChange(
                ssp=data.get("ssp", ""),
                horizon=data.get("horizon"),
                statistic=data.get("statistic", "median"),
                monthly=tuple(ClimateChange(**dict(m)) for m in monthly),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                models=tuple(data.get("models") or ()),
            ),
        )
