"""The three monthly climate values EcoMapper conditions on, validated against physical ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import BadRequestError

# Physical plausibility limits for monthly means (records: -89 C Vostok, 57 C Death Valley;
# the wettest monthly means are ~100 mm/day; top-of-atmosphere daily insolation peaks ~45 MJ/m^2).
TEMP_C_RANGE = (-90.0, 60.0)
PRECIP_MM_DAY_RANGE = (0.0, 150.0)
SOLAR_MJ_M2_DAY_RANGE = (0.0, 45.0)


@dataclass(frozen=True)
class ClimateValues:
    """Monthly mean 2 m temperature (°C), precipitation (mm/day) and all-sky surface solar
    radiation (MJ/m²/day), as NASA POWER reports them (T2M, PRECTOTCORR, ALLSKY_SFC_SW_DWN)."""

    temp_c: float
    precip_mm_day: float
    solar_mj_m2_day: float

    def __post_init__(self) -> None:
        for name, value, (low, high), hint in (
            ("temperature", self.temp_c, TEMP_C_RANGE, "°C"),
            ("precipitation", self.precip_mm_day, PRECIP_MM_DAY_RANGE, "mm/day"),
            ("solar radiation", self.solar_mj_m2_day, SOLAR_MJ_M2_DAY_RANGE, "MJ/m²/day"),
        ):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadRequestError(
                    f"The {name} value {value!r} is missing or not a number.",
                    f"Give the {name} in {hint} (or use the observed climate of a month that has data).",
                )
            if not low <= value <= high:
                raise BadRequestError(
                    f"The {name} {value:g} {hint} is outside the physical range {low:g}..{high:g} {hint}.",
                    f"Give a {name} between {low:g} and {high:g} {hint}.",
                )
        object.__setattr__(self, "temp_c", float(self.temp_c))
        object.__setattr__(self, "precip_mm_day", float(self.precip_mm_day))
        object.__setattr__(self, "solar_mj_m2_day", float(self.solar_mj_m2_day))

    def as_dict(self) -> dict[str, float]:
        return {"temp_c": self.temp_c, "precip_mm_day": self.precip_mm_day, "solar_mj_m2_day": self.solar_mj_m2_day}
