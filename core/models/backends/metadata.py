"""DiffusionSat's metadata vector: the published 7-scalar normalisation, and EcoMapper's 10-scalar weather one.

Published DiffusionSat (github.com/samar-khanna/DiffusionSat, `metadata_normalize`): the raw values
[lon + 180, lat + 90, GSD (m/px of the generated image), cloud fraction, year - 1980, month, day]
are divided by [360, 180, 1, 1, 120, 12, 31] and multiplied by 1000; the shift comes before the
division. The unconditional (guidance) branch gets all zeros, as in training's metadata dropout.

Weather variant, as EcoMapper published it (data_utils/create_captions.py:124-163 `normalize_metadata`,
`get_metadata`): [lon, lat, GSD, cloud, year, month, day, T, P, R] with lon / 360, lat / 180,
GSD 20 / 10 (the original writes GSD 20 for every Sentinel-2 image), cloud, year / 120, month / 12,
day / 31 (day 1 for a YYYY-MM date), (T + 60) / 120, P / 120, R / 40, each times 1000 and with no
other shift: lon, lat and year are not shifted as the published 7-scalar model's are.
"""

from __future__ import annotations

import math

from core.climate.values import ClimateValues
from core.errors import BadRequestError

METADATA_NAMES = ("lon", "lat", "gsd_m", "cloud_fraction", "year", "month", "day")
WEATHER_NAMES = ("temp_c", "precip_mm_day", "solar_mj_m2_day")
METADATA_SHIFT = (180.0, 90.0, 0.0, 0.0, -1980.0, 0.0, 0.0)
METADATA_DIVISOR = (360.0, 180.0, 1.0, 1.0, 120.0, 12.0, 31.0)
METADATA_SCALE = 1000.0
# EcoMapper's weather variant (create_captions.py `normalize_metadata` defaults: base_lon 180, base_lat 90,
# base_year 1980, max_gsd 10, min_temp -60, max_temp 60, max_prep 120, max_rad 40): divisors and shifts per value
ECOMAPPER_GSD_M = 20.0  # `get_metadata`: gsd = 20 for every image
ECOMAPPER_NAMES = (*METADATA_NAMES, *WEATHER_NAMES)
ECOMAPPER_SHIFT = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 60.0, 0.0, 0.0)
ECOMAPPER_DIVISOR = (360.0, 180.0, 10.0, 1.0, 120.0, 12.0, 31.0, 120.0, 120.0, 40.0)


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
    """The metadata vector DiffusionSat's UNet reads: 7 values as published; with the weather scalars the
    10 values of EcoMapper's weather fine-tune, normalised as its original code did (`gsd_m` is then 20).

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
    if not with_weather:
        return [
            (v + shift) / divisor * METADATA_SCALE
            for v, shift, divisor in zip(values, METADATA_SHIFT, METADATA_DIVISOR, strict=True)
        ]
    if climate is None:
        raise BadRequestError(
            "The weather-metadata DiffusionSat needs the month's climate.",
            "Give the climate (observed NASA POWER values or a scenario).",
        )
    weather = (climate.temp_c, climate.precip_mm_day, climate.solar_mj_m2_day)
    weather = tuple(_finite(n, v) for n, v in zip(WEATHER_NAMES, weather, strict=True))
    raw10 = [*values[:2], ECOMAPPER_GSD_M, *values[3:], *weather]
    return [
        (v + shift) / divisor * METADATA_SCALE
        for v, shift, divisor in zip(raw10, ECOMAPPER_SHIFT, ECOMAPPER_DIVISOR, strict=True)
    ]


def unconditional_metadata(num_metadata: int) -> list[float]:
    """All zeros: the guidance branch without metadata."""
    return [0.0] * num_metadata
