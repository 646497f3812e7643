"""Scenario kind "projection": a CMIP6 SSP x horizon resolved into 12 monthly changes (the data, not the resolving).

`core.climate.projection` resolves a place's projection into a `ProjectedChange`; this module holds the
value and how a `Scenario` of this kind checks, labels and serialises itself (see `core.climate.scenario`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.climate.change import ClimateChange
from core.errors import BadRequestError
from core.sources.projections.periods import SSPS, check_ssp, check_statistic, period_for

if TYPE_CHECKING:
    from core.climate.scenario import Scenario
    from core.geo import Month

KIND = "projection"


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
        object.__setattr__(self, "ssp", check_ssp(self.ssp))
        object.__setattr__(self, "horizon", period_for(self.horizon).horizon)
        check_statistic(self.statistic)
        monthly = tuple(self.monthly)
        if len(monthly) != 12 or not all(isinstance(c, ClimateChange) for c in monthly):
            raise BadRequestError(
                f"The projection scenario {SSPS[self.ssp]} {self.horizon} has {len(monthly)} monthly changes, not 12.",
                "Make it with core.climate.projection.projection_scenario(point, ssp, horizon, settings).",
            )
        object.__setattr__(self, "monthly", monthly)
        object.__setattr__(self, "models", tuple(self.models))

    def label(self) -> str:
        text = f"{SSPS[self.ssp]} {self.horizon}"
        return text if self.statistic == "median" else f"{text} ({self.statistic})"



class ProjectionKind:
    """Kind "projection" for `core.climate.scenario.SCENARIO_KINDS`."""

    name = KIND

    def check(self, scenario: Scenario) -> None:
        if not isinstance(scenario.projection, ProjectedChange):
            raise BadRequestError(
                f"The projection scenario has no resolved projection ({scenario.projection!r}).",
                "Make it with core.climate.projection.projection_scenario(point, ssp, horizon, settings).",
            )

    def change_for(self, scenario: Scenario, month: Month | None) -> ClimateChange:
        if month is None:
            raise BadRequestError(
                f"The scenario '{self.label(scenario)}' changes each calendar month differently; no month was given.",
                "Give the month the climate is for.",
            )
        projected = scenario.projection.monthly[month.month - 1]
        return projected if scenario.change.is_zero else projected.then(scenario.change)

    def label(self, scenario: Scenario) -> str:
        text = scenario.projection.label()
        if not scenario.change.is_zero:
            text += f", then {scenario.change.label()}"
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
            **({} if scenario.change.is_zero else {"then": scenario.change.as_dict()}),
        }

    def fields_from_dict(self, data: Mapping[str, Any]) -> dict[str, Any]:
        known = {"kind", "label", "name", "ssp", "horizon", "statistic", "latitude", "longitude", "models", "monthly"}
        known.add("then")  # a change applied after the projection (`Scenario.plus`)
        unknown = set(data) - known
        if unknown:
            raise BadRequestError(
                f"The projection scenario has unknown fields {sorted(unknown)}.", f"Give only {sorted(known)}."
            )
        monthly = data.get("monthly")
        if not isinstance(monthly, list) or not all(isinstance(m, Mapping) for m in monthly):
            raise BadRequestError("The projection scenario's 'monthly' is not a list of 12 changes.", "Re-export it.")
        then = data.get("then") or {}
        if not isinstance(then, Mapping):
            raise BadRequestError("The projection scenario's 'then' is not a change.", "Give temp_delta_c etc.")
        return dict(
            kind=KIND,
            name=data.get("name") or "",
            change=ClimateChange(**dict(then)),
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
