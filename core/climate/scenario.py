"""A climate scenario: the change applied to a place's observed climate, kept beside it (never folded in).

Every kind of scenario comes down to a `ClimateChange` per month (added temperature and radiation,
multiplied precipitation: the same arithmetic as the CMIP6 "delta method"). Kind "change" is one
change for every month, set by hand ("+3 °C, −30 % rain"). A kind is a `ScenarioKind` registered in
`SCENARIO_KINDS`: it checks its fields, resolves the change of a month, names the scenario and reads
and writes its JSON. Adding a kind (e.g. "projection": SSP, horizon, ensemble statistic and the 12
resolved monthly changes) means a field on `Scenario` for its data and one `ScenarioKind`; the
arithmetic, labels of the result and the recipe format stay as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.climate.change import (
    CLIMATE_DECIMALS,
    MINUS,
    PRECIP_CHANGE_PCT_RANGE,
    SOLAR_DELTA_RANGE,
    TEMP_DELTA_C_RANGE,
    ClimateChange,
    round_climate,
)
from core.climate.projected_change import ProjectedChange, ProjectionKind
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month

__all__ = [
    "CLIMATE_DECIMALS",
    "MINUS",
    "PRECIP_CHANGE_PCT_RANGE",
    "SCENARIO_KINDS",
    "SCENARIO_PRESETS",
    "SOLAR_DELTA_RANGE",
    "TEMP_DELTA_C_RANGE",
    "ClimateChange",
    "ProjectedChange",
    "Scenario",
    "ScenarioKind",
    "round_climate",
]


class ScenarioKind(Protocol):
    """What a kind of scenario must say about itself (see the module docstring)."""

    name: str

    def check(self, scenario: Scenario) -> None: ...

    def change_for(self, scenario: Scenario, month: Month | None) -> ClimateChange: ...

    def label(self, scenario: Scenario) -> str: ...

    def to_dict(self, scenario: Scenario) -> dict[str, Any]: ...

    def fields_from_dict(self, data: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Scenario:
    """How the climate of a request differs from the observed one.

    Args:
        kind: which `ScenarioKind` reads the fields ("change", "projection").
        change: kind "change": the change of every month; kind "projection": a change applied after
            the projected one (zero unless a grid or a user varies the projection).
        name: an optional preset name shown before the numbers ("Hot and dry").
        projection: kind "projection": the resolved CMIP6 projection (`core.climate.projection`).
    """

    kind: str = "change"
    change: ClimateChange = field(default_factory=ClimateChange)
    name: str = ""
    # Kind "projection": a `core.climate.projection.ProjectedChange` (SSP, horizon, statistic, 12 changes).
    projection: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise BadRequestError(f"The scenario name {self.name!r} is not text.", "Give a short name or ''.")
        _kind(self.kind).check(self)

    @classmethod
    def today(cls) -> Scenario:
        """No change: the observed climate as it is."""
        return cls()

    @classmethod
    def of_change(
        cls,
        temp_delta_c: float = 0.0,
        precip_change_pct: float = 0.0,
        solar_delta_mj_m2_day: float = 0.0,
        name: str = "",
    ) -> Scenario:
        """A kind "change" scenario from its three numbers (precipitation in percent: -30 = 30 % less)."""
        return cls(change=ClimateChange(temp_delta_c, precip_change_pct, solar_delta_mj_m2_day), name=name)

    def plus(self, change: ClimateChange) -> Scenario:
        """This scenario with `change` on top (a scenario grid around it): kind "change" adds it to its
        change; kind "projection" keeps the projection and records the change applied after it."""
        return self.replace(change=self.change.then(change))

    def change_for(self, month: Month | None = None) -> ClimateChange:
        """The change of `month` (kinds that vary by month need it)."""
        return _kind(self.kind).change_for(self, month)

    @property
    def is_today(self) -> bool:
        """True when no month changes (kind "change" with zero change)."""
        return self.kind == "change" and self.change.is_zero

    def apply(self, observed: ClimateValues, month: Month | None = None) -> ClimateValues:
        """The climate of `month` under this scenario (rounded to `CLIMATE_DECIMALS`).

        Raises:
            BadRequestError: the result is not a physically possible climate; the message names the
                scenario and the observed values.
        """
        if not isinstance(observed, ClimateValues):
            raise BadRequestError(
                f"The observed climate {observed!r} is not a ClimateValues.",
                "Observe the month first (or give temperature, precipitation and radiation).",
            )
        try:
            return self.change_for(month).apply(observed)
        except BadRequestError as err:
            raise BadRequestError(
                f"The scenario '{self.label}' cannot apply to {observed.temp_c:g} °C, "
                f"{observed.precip_mm_day:g} mm/day, {observed.solar_mj_m2_day:g} MJ/m²/day: {err.problem}",
                "Choose a smaller change.",
            ) from err

    @property
    def label(self) -> str:
        """A short human label: 'today', '+3 °C, −30 % rain', 'Hot and dry (+4 °C, −30 % rain)'."""
        return _kind(self.kind).label(self)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: {"kind": ..., "label": ..., **the kind's fields} (`from_dict` reads it back)."""
        return {"kind": self.kind, "label": self.label, **_kind(self.kind).to_dict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """The scenario of `as_dict` (the label is recomputed, not trusted)."""
        if not isinstance(data, Mapping):
            raise BadRequestError(f"The scenario {data!r} is not an object.", 'Give e.g. {"kind": "change", ...}.')
        return cls(**_kind(data.get("kind", "change")).fields_from_dict(data))

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)


class _ChangeKind:
    """Kind "change": one hand-set change for every month."""

    name = "change"

    def check(self, scenario: Scenario) -> None:
        if not isinstance(scenario.change, ClimateChange):
            raise BadRequestError(
                f"The scenario's change {scenario.change!r} is not a ClimateChange.",
                "Use Scenario.of_change(temp_delta_c, precip_change_pct, solar_delta_mj_m2_day).",
            )

    def change_for(self, scenario: Scenario, month: Month | None) -> ClimateChange:
        return scenario.change

    def label(self, scenario: Scenario) -> str:
        numbers = scenario.change.label() or "today"
        return f"{scenario.name} ({numbers})" if scenario.name else numbers

    def to_dict(self, scenario: Scenario) -> dict[str, Any]:
        return {**scenario.change.as_dict(), "name": scenario.name}

    def fields_from_dict(self, data: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(data) - {"kind", "label", "name", "temp_delta_c", "precip_change_pct", "solar_delta_mj_m2_day"}
        if unknown:
            raise BadRequestError(
                f"The change scenario has unknown fields {sorted(unknown)}.",
                "Give temp_delta_c, precip_change_pct and solar_delta_mj_m2_day.",
            )
        change = ClimateChange(
            data.get("temp_delta_c", 0.0), data.get("precip_change_pct", 0.0), data.get("solar_delta_mj_m2_day", 0.0)
        )
        return {"kind": "change", "change": change, "name": data.get("name") or ""}


# kind name -> how to read it. A new kind registers here.
SCENARIO_KINDS: dict[str, ScenarioKind] = {"change": _ChangeKind(), "projection": ProjectionKind()}


def _kind(name: object) -> ScenarioKind:
    kind = SCENARIO_KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise BadRequestError(f"Unknown scenario kind {name!r}.", f"Use one of: {', '.join(SCENARIO_KINDS)}.")
    return kind


# A few scenarios for class use (issue 9): named, so a frame says what it shows.
SCENARIO_PRESETS: tuple[Scenario, ...] = (
    Scenario.today(),
    Scenario.of_change(2.0, name="Warmer"),
    Scenario.of_change(4.0, -30.0, name="Hot and dry"),
    Scenario.of_change(0.0, 30.0, name="Wetter"),
    Scenario.of_change(-2.0, name="Cooler"),
)
