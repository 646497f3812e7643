"""One month's climate change: temperature and radiation added, precipitation changed by a percentage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.climate.values import ClimateValues
from core.errors import BadRequestError

# Climate numbers are kept at NASA POWER's precision (2 decimals): what a recipe records is exactly
# what generated the image, and no 1.0779999999999998 from float arithmetic reaches a file.
CLIMATE_DECIMALS = 2
# Limits of a hand-set change (a scenario beyond them is not a climate of this planet).
TEMP_DELTA_C_RANGE = (-30.0, 30.0)
PRECIP_CHANGE_PCT_RANGE = (-100.0, 900.0)
SOLAR_DELTA_RANGE = (-45.0, 45.0)
MINUS = "\u2212"  # a real minus sign in labels: "−30 % rain" reads better than "-30 % rain"


def round_climate(values: ClimateValues) -> ClimateValues:
    """The climate at the precision every output records (`CLIMATE_DECIMALS`)."""
    return ClimateValues(
        round(values.temp_c, CLIMATE_DECIMALS),
        round(values.precip_mm_day, CLIMATE_DECIMALS),
        round(values.solar_mj_m2_day, CLIMATE_DECIMALS),
    )


def _number(name: str, value: object, bounds: tuple[float, float], unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(
            f"The scenario's {name} {value!r} is not a number.", f"Give the {name} in {unit}, e.g. 0 for no change."
        )
    low, high = bounds
    if not low <= value <= high:
        raise BadRequestError(
            f"The scenario's {name} {value:g} {unit} is outside {low:g}..{high:g} {unit}.",
            f"Give a {name} from {low:g} to {high:g} {unit}.",
        )
    return round(float(value), CLIMATE_DECIMALS)


def _signed(value: float, decimals: int = 1) -> str:
    """'+3', '+1.5', '−30' (a real minus sign, no trailing '.0')."""
    text = f"{abs(value):.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{abs(value):.0f}"
    return ("+" if value > 0 else MINUS if value < 0 else "") + text


@dataclass(frozen=True)
class ClimateChange:
    """The change of one month: temperature and radiation added, precipitation changed by a percentage.

    Args:
        temp_delta_c: °C added to the monthly mean temperature.
        precip_change_pct: percent change of precipitation (-30 = 30 % less rain, +20 = 20 % more).
        solar_delta_mj_m2_day: MJ/m²/day added to the daily solar radiation.
    """

    temp_delta_c: float = 0.0
    precip_change_pct: float = 0.0
    solar_delta_mj_m2_day: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "temp_delta_c", _number("temperature change", self.temp_delta_c, TEMP_DELTA_C_RANGE, "°C")
        )
        object.__setattr__(
            self,
            "precip_change_pct",
            _number("precipitation change", self.precip_change_pct, PRECIP_CHANGE_PCT_RANGE, "%"),
        )
        object.__setattr__(
            self,
            "solar_delta_mj_m2_day",
            _number("radiation change", self.solar_delta_mj_m2_day, SOLAR_DELTA_RANGE, "MJ/m²/day"),
        )

    @property
    def is_zero(self) -> bool:
        return self.temp_delta_c == 0 and self.precip_change_pct == 0 and self.solar_delta_mj_m2_day == 0

    @property
    def precip_scale(self) -> float:
        """The precipitation factor (0.7 for -30 %)."""
        return 1.0 + self.precip_change_pct / 100.0

    def apply(self, observed: ClimateValues) -> ClimateValues:
        """`observed` under this change, at the recorded precision.

        Raises:
            BadRequestError: the result is outside the physical ranges (e.g. radiation below 0).
        """
        return round_climate(
            ClimateValues(
                observed.temp_c + self.temp_delta_c,
                observed.precip_mm_day * self.precip_scale,
                observed.solar_mj_m2_day + self.solar_delta_mj_m2_day,
            )
        )

    def then(self, other: ClimateChange) -> ClimateChange:
        """This change followed by `other`: degrees and radiation add, rain factors multiply
        (+20 % then −50 % is −40 %)."""
        return ClimateChange(
            self.temp_delta_c + other.temp_delta_c,
            (self.precip_scale * other.precip_scale - 1.0) * 100.0,
            self.solar_delta_mj_m2_day + other.solar_delta_mj_m2_day,
        )

    def label(self) -> str:
        """'+3 °C, −30 % rain' (zero parts left out; '' when nothing changes)."""
        parts = []
        if self.temp_delta_c:
            parts.append(f"{_signed(self.temp_delta_c)} °C")
        if self.precip_change_pct:
            parts.append(f"{_signed(self.precip_change_pct, 0)} % rain")
        if self.solar_delta_mj_m2_day:
            parts.append(f"{_signed(self.solar_delta_mj_m2_day)} MJ/m²/day sun")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, float]:
        return {
            "temp_delta_c": self.temp_delta_c,
            "precip_change_pct": self.precip_change_pct,
            "solar_delta_mj_m2_day": self.solar_delta_mj_m2_day,
        }
