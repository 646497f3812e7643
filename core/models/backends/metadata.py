"""DiffusionSat's metadata vector: the published order and normalisation, plus the weather variant's scalars.

Published (github.com/samar-khanna/DiffusionSat, `metadata_normalize`): the raw values
[lon + 180, lat + 90, GSD (m/px of the generated image), cloud fraction, year - 1980, month, day]
are divided by [360, 180, 1, 1, 120, 12, 31] and multiplied by 1000; the shift comes before the
division. The unconditional (guidance) branch gets all zeros, as in training's metadata dropout.

Weather variant (EcoMapper's DiffusionSat-FT idea; the scaling is ours, the original's is not
published): temperature (deg C + 50) / 100, precipitation (mm/day) / 50, radiation (MJ/m^2/day) / 40,
each times 1000, so typical values land in the same 0..1000 range as the others.
"""

from __future__ import annotations

import math

from core.climate.values import ClimateValues
from core.errors import BadRequestError

METADATA_NAMES = ("lon", "lat", "gsd_m", "cloud_fraction", "year", "month", "day")
WEATHER_NAMES = ("temp_c", "precip_mm_day", "solar_mj_m2_day")
METADATA_SHIFT = (180.0, 90.0, 0.0, 0.0, -1980.0, 0.0, 0.0)
METADATA_DIVISOR = (360.0, 180.0, 1.0, 1.0, 120.0, 12.0, 31.0)
WEATHER_SHIFT = (50.0, 0.0, 0.0)
WEATHER_DIVISOR = (100.0, 50.0, 40.0)
METADATA_SCALE = 1000.0


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(f"The metadata value {name}={value!r} is not a finite number.", "Give a number.")
    return float(value)


def normalise_metadata(
    *,
    lon: float,
    lat: float,
    gsd_m: float,
    cloud_fraction: float,
    year: int,
    month: int,
    day: int,
    climate: ClimateValues | None = None,
    with_weather: bool = False,
) -> list[float]:
    """The metadata vector DiffusionSat's UNet reads (7 values; 10 with the weather scalars).

    Raises:
        BadRequestError: a value is not finite or outside its range, or weather is asked for without a climate.
    """
    raw = [lon, lat, gsd_m, cloud_fraction, year, month, day]
    values = [_finite(n, v) for n, v in zip(METADATA_NAMES, raw, strict=True)]
    if not -180.0 <= values[0] <= 180.0 or not -90.0 <= values[1] <= 90.0:
        raise BadRequestError(f"lon/lat {lon}, {lat} are outside -180..180 / -90..90.", "Check the coordinates.")
    if values[2] <= 0 or not 0.0 <= values[3] <= 1.0:
        raise BadRequestError(
            f"GSD {gsd_m} m must be positive and cloud {cloud_fraction} 0..1.", "Give metres per pixel and a fraction."
        )
    if not 1 <= values[5] <= 12 or not 1 <= values[6] <= 31:
        raise BadRequestError(f"Month {month} / day {day} are out of range.", "Give month 1..12 and day 1..31.")
    out = [
        (v + shift) / divisor * METADATA_SCALE
        for v, shift, divisor in zip(values, METADATA_SHIFT, METADATA_DIVISOR, strict=True)
    ]
    if with_weather:
        if climate is None:
            raise BadRequestError(
                "The weather-metadata DiffusionSat needs the month's climate.",
                "Give the climate (observed NASA POWER values or a scenario).",
            )
        weather = (climate.temp_c, climate.precip_mm_day, climate.solar_mj_m2_day)
        out += [
            (_finite(n, v) + shift) / divisor * METADATA_SCALE
            for n, v, shift, divisor in zip(WEATHER_NAMES, weather, WEATHER_SHIFT, WEATHER_DIVISOR, strict=True)
        ]
    return out


def unconditional_metadata(num_metadata: int) -> list[float]:
    """All zeros: the guidance branch without metadata."""
    return [0.0] * num_metadata
