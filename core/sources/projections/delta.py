"""The delta method: a model's change per calendar month, applied to the observed climate, and the ensemble.

Temperature and radiation changes are added (future minus baseline); precipitation changes are a
ratio (future over baseline), so a dry month stays dry and never goes negative. Where a model's
baseline month is nearly rainless a ratio would explode, so there the change is added instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.climate.values import ClimateValues

# Below this baseline (mm/day) a precipitation ratio is meaningless (0.1 mm/day ~ 3 mm a month).
DRY_BASELINE_MM_DAY = 0.1
VARIABLE_NAMES = ("temp_c", "precip_mm_day", "solar_mj_m2_day")


@dataclass(frozen=True)
class MonthlyChange:
    """One model's change for the 12 calendar months (index 0 = January)."""

    temp_delta_c: tuple[float, ...]
    precip_ratio: tuple[float, ...]  # NaN where the baseline is dry (use precip_delta_mm_day there)
    precip_delta_mm_day: tuple[float, ...]
    solar_delta_mj_m2_day: tuple[float, ...]

    @classmethod
    def from_climatologies(cls, baseline: dict[str, np.ndarray], future: dict[str, np.ndarray]) -> MonthlyChange:
        """Changes from two climatologies in project units, keyed by CMIP6 variable (tas, pr, rsds)."""
        base_pr, fut_pr = np.asarray(baseline["pr"]), np.asarray(future["pr"])
        wet = base_pr >= DRY_BASELINE_MM_DAY
        ratio = np.where(wet, fut_pr / np.where(wet, base_pr, 1.0), np.nan)
        return cls(
            temp_delta_c=_floats(np.asarray(future["tas"]) - np.asarray(baseline["tas"])),
            precip_ratio=_floats(ratio),
            precip_delta_mm_day=_floats(fut_pr - base_pr),
            solar_delta_mj_m2_day=_floats(np.asarray(future["rsds"]) - np.asarray(baseline["rsds"])),
        )

    def apply(self, observed: ClimateValues, month: int) -> tuple[float, float, float]:
        """(temp_c, precip_mm_day, solar_mj_m2_day) for calendar `month` (1..12) under this change."""
        i = month - 1
        ratio = self.precip_ratio[i]
        if np.isfinite(ratio):
            precip = observed.precip_mm_day * ratio
        else:
            precip = observed.precip_mm_day + self.precip_delta_mm_day[i]
        return (
            observed.temp_c + self.temp_delta_c[i],
            max(0.0, precip),
            max(0.0, observed.solar_mj_m2_day + self.solar_delta_mj_m2_day[i]),
        )


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def ensemble_statistics(projected: np.ndarray) -> dict[str, np.ndarray]:
    """Median and 10th / 90th percentiles across models.

    Args:
        projected: (models, 12 months, 3 variables).

    Returns:
        {"median", "p10", "p90"} -> (12, 3) arrays (linear interpolation between models).
    """
    return {
        "median": np.median(projected, axis=0),
        "p10": np.percentile(projected, 10, axis=0),
        "p90": np.percentile(projected, 90, axis=0),
    }


def climate_values(row: np.ndarray) -> ClimateValues:
    """A (3,) row as ClimateValues."""
    return ClimateValues(*(float(v) for v in row))
