"""NASA POWER monthly climate at a point (community AG) as an xarray.Dataset, gaps filled from daily data."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, UpstreamError
from core.geo import Month, Point, month_range
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient, describe_age

log = logging.getLogger(__name__)

SERVICE = "NASA POWER"
COMMUNITY = "AG"
# POWER parameter -> (our variable, the units we store it in)
PARAMETERS: dict[str, tuple[str, str]] = {
    "T2M": ("temp_c", "C"),
    "PRECTOTCORR": ("precip_mm_day", "mm/day"),
    "ALLSKY_SFC_SW_DWN": ("solar_mj_m2_day", "MJ/m^2/day"),
}
# Unit spellings POWER uses per community, converted to the ones above (RE/SB give kWh for irradiance).
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("C", "C"): 1.0,
    ("mm/day", "mm/day"): 1.0,
    ("MJ/m^2/day", "MJ/m^2/day"): 1.0,
    ("kW-hr/m^2/day", "MJ/m^2/day"): 3.6,
    ("kWh/m^2/day", "MJ/m^2/day"): 3.6,
}
ANNUAL_KEY_MONTH = 13  # POWER's YYYY13 is the annual value, never a month
DEFAULT_FILL_VALUE = -999.0
# POWER's monthly and daily meteorology starts in January 1981 (MERRA-2 based).
POWER_FIRST_YEAR = 1981
# A month aggregated from daily values needs most of its days; fewer would bias the mean.
MIN_DAILY_COVERAGE = 0.8
SOURCE_MONTHLY = "monthly"
SOURCE_DAILY = "daily-aggregate"
SOURCE_NONE = "none"


@dataclass(frozen=True)
class PowerResponse:
    """One POWER JSON answer reduced to what we use.

    `series[param][key]` holds floats (NaN for fill values); keys are `YYYYMM` (monthly, without
    the annual `YYYY13`) or `YYYYMMDD` (daily). `annual[param][year]` keeps the `YYYY13` values.
    """

    series: dict[str, dict[str, float]]
    annual: dict[str, dict[int, float]]
    units: dict[str, str]
    long_names: dict[str, str]
    version: str
    latitude: float
    longitude: float
    elevation_m: float | None
    messages: tuple[str, ...]


def _to_float(value: Any, fill_value: float) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    number = float(value)
    # int -999 and float -999.0 both mean missing
    if not math.isfinite(number) or number == fill_value or number <= DEFAULT_FILL_VALUE:
        return math.nan
    return number


def _pick_feature(payload: Mapping[str, Any], point: Point | None) -> Mapping[str, Any]:
    if payload.get("type") == "FeatureCollection" or "features" in payload:
        features = payload.get("features") or []
        if not features:
            raise UpstreamError(f"{SERVICE} answered with no data points.", "Try again later.", service=SERVICE)
        if point is None:
            return features[0]

        def distance(feature: Mapping[str, Any]) -> float:
            lon, lat = feature["geometry"]["coordinates"][:2]
            return (lat - point.lat) ** 2 + (lon - point.lon) ** 2

        return min(features, key=distance)
    return payload


def parse_power_response(payload: Any, point: Point | None = None) -> PowerResponse:
    """Parse a POWER point or regional JSON answer (API v2.3 .. v2.9 header layouts).

    Args:
        payload: the decoded JSON.
        point: for a regional answer, the feature nearest to it is used (else the first).

    Raises:
        UpstreamError: the answer is an error message or lacks the parts every POWER answer has.
    """
    if not isinstance(payload, Mapping):
        raise UpstreamError(f"{SERVICE} answered with {type(payload).__name__}, not an object.", service=SERVICE)
    if "properties" not in payload and "features" not in payload:
        # POWER reports bad requests as {"header": ..., "messages": [...]} or {"detail": ...}
        detail = payload.get("messages") or payload.get("detail") or payload.get("errors") or payload
        raise UpstreamError(
            f"{SERVICE} answered without data: {str(detail)[:200]}.",
            "Check the point and dates; POWER covers 1981 to the recent past.",
            service=SERVICE,
        )
    header = payload.get("header") or {}
    fill_value = float(header.get("fill_value", DEFAULT_FILL_VALUE))
    feature = _pick_feature(payload, point)
    try:
        raw = feature["properties"]["parameter"]
        coords = feature["geometry"]["coordinates"]
    except (KeyError, TypeError) as err:
        raise UpstreamError(
            f"{SERVICE} answer has no properties.parameter block.", "Try again later.", service=SERVICE
        ) from err
    series: dict[str, dict[str, float]] = {}
    annual: dict[str, dict[int, float]] = {}
    for name, values in raw.items():
        series[name], annual[name] = {}, {}
        for key, value in values.items():
            number = _to_float(value, fill_value)
            if len(key) == 6 and int(key[4:]) == ANNUAL_KEY_MONTH:
                annual[name][int(key[:4])] = number
            else:
                series[name][key] = number
    parameters = payload.get("parameters") or {}
    return PowerResponse(
        series=series,
        annual=annual,
        units={name: str(meta.get("units", "")) for name, meta in parameters.items()},
        long_names={name: str(meta.get("longname", name)) for name, meta in parameters.items()},
        version=str((header.get("api") or {}).get("version", "unknown")),
        latitude=float(coords[1]),
        longitude=float(coords[0]),
        elevation_m=float(coords[2]) if len(coords) > 2 and coords[2] is not None else None,
        messages=tuple(str(m) for m in payload.get("messages") or ()),
    )


def _unit_factor(parameter: str, given: str) -> float:
    wanted = PARAMETERS[parameter][1]
    if not given:
        return 1.0
    factor = UNIT_FACTORS.get((given, wanted))
    if factor is None:
        raise UpstreamError(
            f"{SERVICE} reported {parameter} in {given!r}, which we cannot convert to {wanted}.",
            "Report this: the POWER API may have changed its units.",
            service=SERVICE,
        )
    return factor


def _request_params(point: Point, start: str, end: str) -> dict[str, str]:
    return {
        "parameters": ",".join(PARAMETERS),
        "community": COMMUNITY,
        "latitude": f"{point.lat:.4f}",
        "longitude": f"{point.lon:.4f}",
        "start": start,
        "end": end,
        "format": "JSON",
        "time-standard": "UTC",
    }


def _fetch(client: HttpClient, settings: Settings, kind: str, params: dict[str, str], point: Point) -> PowerResponse:
    payload = client.get_json(f"{settings.power_url}/{kind}/point", service=SERVICE, params=params, use_cache=False)
    response = parse_power_response(payload, point)
    for message in response.messages:
        log.info("%s %s: %s", SERVICE, kind, message)
    return response


def _daily_means(
    response: PowerResponse, months: Iterable[Month], today: date, coverage: dict[Month, float] | None = None
) -> dict[Month, dict[str, float]]:
    """Per month and parameter, the mean of the daily values (NaN below MIN_DAILY_COVERAGE).

    `coverage`, when given, receives per month the best fraction of days with a value (for messages).
    """
    factors = {p: _unit_factor(p, response.units.get(p, "")) for p in PARAMETERS}
    result: dict[Month, dict[str, float]] = {}
    for month in months:
        last = min(month.last_day, today)
        days = (last - month.first_day).days + 1
        keys = [(month.first_day + timedelta(days=offset)).strftime("%Y%m%d") for offset in range(days)]
        values: dict[str, float] = {}
        for parameter in PARAMETERS:
            daily = response.series.get(parameter, {})
            found = [daily[key] for key in keys if key in daily and not math.isnan(daily[key])]
            enough = days > 0 and len(found) >= MIN_DAILY_COVERAGE * days
            if coverage is not None and days > 0:
                coverage[month] = max(coverage.get(month, 0.0), len(found) / days)
            values[parameter] = float(np.mean(found)) * factors[parameter] if enough else math.nan
        result[month] = values
    return result


def fetch_climate(
    point: Point,
    start: Month | str,
    end: Month | str,
    settings: Settings,
    client: HttpClient | None = None,
    today: date | None = None,
):
    """Monthly T2M, PRECTOTCORR and ALLSKY_SFC_SW_DWN at a point from NASA POWER (community AG).

    Months the monthly product does not have yet are filled from the daily endpoint, averaged over
    the month, and marked `source="daily-aggregate"`. The series is cached on disk by request: a
    final one (every month from the monthly product) for good, a provisional one (gaps or daily
    aggregates) for a day when online and for good offline.

    Args:
        point: where.
        start, end: first and last month (inclusive).
        settings: endpoints, cache, offline mode.
        client: an HttpClient to reuse (one is made from `settings` otherwise).
        today: the current date (for tests); months after it are refused.

    Returns:
        xarray.Dataset with dim `time` (first day of each month) and variables `temp_c`,
        `precip_mm_day`, `solar_mj_m2_day` (NaN where missing) and `source`.

    Raises:
        BadRequestError: end before start, or a month in the future.
        UpstreamError: POWER failed, or it has no value at all for the months asked for.
    """
    now = today or date.today()
    months = month_range(start, end)
    months[-1].ensure_not_future(today=now, what="climate data")
    if months[0].year < POWER_FIRST_YEAR:
        raise BadRequestError(
            f"NASA POWER has no climate data before {POWER_FIRST_YEAR} (asked from {months[0]}).",
            f"Pick months from {POWER_FIRST_YEAR}-01 on.",
        )
    cache = DiskCache(settings.cache_dir, "climate")
    key = request_key(
        "climate-v1", settings.power_url, round(point.lat, 4), round(point.lon, 4), str(months[0]), str(months[-1])
    )
    stored = _readable_record(cache, key, months)
    age_s = time.time() - stored.get("fetched_at", 0) if stored is not None else 0.0
    if stored is not None and (stored.get("final") or settings.offline or age_s < settings.fresh_month_ttl_s):
        log.info("climate series for %s %s..%s from the cache", point.label(), months[0], months[-1])
        return _to_dataset(stored, months)
    try:
        record = _assemble(point, months, settings, client or HttpClient(settings), now)
    except UpstreamError as err:
        if stored is None:
            raise
        # POWER failed but an older (provisional) answer is at hand: serve it, and say how old it is.
        log.warning("%s; using the cached climate fetched %s ago", err.problem, describe_age(age_s))
        return _to_dataset(stored, months)
    final = all(source == SOURCE_MONTHLY for source in record["sources"]) and not any(
        math.isnan(v) for values in record["values"].values() for v in values
    )
    cache.put_json(key, {**record, "fetched_at": time.time(), "final": final})
    return _to_dataset(record, months)


def _readable_record(cache: DiskCache, key: str, months: list[Month]) -> dict | None:
    """The cached series, or None; a record that lacks a field or has the wrong length is discarded."""
    stored = cache.get_json(key)
    if stored is None:
        return None
    try:
        if not isinstance(stored, dict):
            raise TypeError(type(stored).__name__)
        if len(stored["sources"]) != len(months) or any(len(stored["values"][p]) != len(months) for p in PARAMETERS):
            raise ValueError("length differs from the months asked for")
        _to_dataset(stored, months)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        cache.discard(key, ".json", f"unreadable climate entry: {type(err).__name__}: {err}")
        return None
    return stored


def _assemble(point: Point, months: list[Month], settings: Settings, client: HttpClient, now: date) -> dict:
    """Fetch and combine the monthly product and the daily fallback into a JSON-safe record."""
    # 1. The monthly product for the years covering the range. Not kept in the HTTP cache: the
    #    series cache above decides how long an answer with gaps stays valid.
    monthly = _fetch(
        client, settings, "monthly", _request_params(point, str(months[0].year), str(months[-1].year)), point
    )
    factors = {p: _unit_factor(p, monthly.units.get(p, "")) for p in PARAMETERS}
    table = {
        month: {
            p: monthly.series.get(p, {}).get(f"{month.year:04d}{month.month:02d}", math.nan) * factors[p]
            for p in PARAMETERS
        }
        for month in months
    }
    missing_params = [p for p in PARAMETERS if p not in monthly.series]
    if missing_params:
        log.warning("%s answer lacks %s; those values are NaN", SERVICE, ", ".join(missing_params))
    sources = {month: SOURCE_MONTHLY for month in months}

    # 2. Months the monthly product does not have: the daily endpoint, averaged per month.
    gaps = [m for m in months if all(math.isnan(v) for v in table[m].values())]
    daily_error = ""
    daily_coverage: dict[Month, float] = {}
    if gaps:
        first_day, last_day = gaps[0].first_day, min(gaps[-1].last_day, now)
        try:
            daily = _fetch(
                client,
                settings,
                "daily",
                _request_params(point, first_day.strftime("%Y%m%d"), last_day.strftime("%Y%m%d")),
                point,
            )
            for month, values in _daily_means(daily, gaps, now, daily_coverage).items():
                if any(not math.isnan(v) for v in values.values()):
                    table[month] = values
                    sources[month] = SOURCE_DAILY
        except UpstreamError as err:
            # The monthly data stands on its own; say why the gaps stay gaps.
            daily_error = str(err)
            log.warning("could not fill %d month(s) from daily data: %s", len(gaps), err)
    for month in months:
        if all(math.isnan(v) for v in table[month].values()):
            sources[month] = SOURCE_NONE

    # 3. Nothing at all for what was asked: a clear error rather than a table of NaN.
    if all(sources[m] == SOURCE_NONE for m in months):
        span = str(months[0]) if len(months) == 1 else f"{months[0]}..{months[-1]}"
        partial = {m: c for m, c in daily_coverage.items() if c > 0}
        if daily_error:
            why = f"the monthly values are the fill value -999 and the daily fallback failed: {daily_error}"
        elif partial:
            best = max(partial, key=partial.get)
            why = (
                f"no monthly value yet, and the daily values cover only {partial[best]:.0%} of the days of "
                f"{best} ({MIN_DAILY_COVERAGE:.0%} are needed for a monthly mean)"
            )
        else:
            why = "every monthly and daily value is the fill value -999"
        raise UpstreamError(
            f"{SERVICE} has no data for {span} at {point.label()}: {why}.",
            "POWER publishes monthly values after the year ends and daily values a few days late; "
            "pick a month that is complete, or try again in a few days.",
            service=SERVICE,
        )
    return {
        "values": {p: [table[m][p] for m in months] for p in PARAMETERS},
        "sources": [sources[m] for m in months],
        "power_units": {p: monthly.units.get(p, "") for p in PARAMETERS},
        "long_names": {p: monthly.long_names.get(p, p) for p in PARAMETERS},
        "attrs": {
            "latitude": point.lat,
            "longitude": point.lon,
            "power_latitude": monthly.latitude,
            "power_longitude": monthly.longitude,
            "power_version": monthly.version,
            "community": COMMUNITY,
            "missing_parameters": ",".join(missing_params),
            "power_messages": " | ".join(monthly.messages),
        },
    }


def _to_dataset(record: dict, months: list[Month]):
    import xarray as xr

    times = np.array([np.datetime64(m.first_day.isoformat(), "ns") for m in months])
    data_vars = {}
    for parameter, (name, unit) in PARAMETERS.items():
        data_vars[name] = xr.DataArray(
            np.array(record["values"][parameter], dtype="float64"),
            dims="time",
            attrs={
                "units": unit,
                "power_units": record["power_units"][parameter],
                "long_name": record["long_names"][parameter],
                "power_parameter": parameter,
            },
        )
    data_vars["source"] = xr.DataArray(np.array(record["sources"], dtype=object), dims="time")
    return xr.Dataset(data_vars, coords={"time": times}, attrs=dict(record["attrs"]))


def climate_for_month(ds, month: Month | str) -> ClimateValues:
    """The three climate values of one month of a dataset from `fetch_climate`.

    Raises:
        BadRequestError: the month is not in the dataset.
        UpstreamError: the month has no (complete) data.
    """
    wanted = Month.parse(month)
    stamp = np.datetime64(wanted.first_day.isoformat(), "ns")
    if stamp not in ds["time"].values:
        raise BadRequestError(
            f"The month {wanted} is not in the climate series "
            f"({str(ds['time'].values[0])[:7]}..{str(ds['time'].values[-1])[:7]}).",
            "Fetch a series that includes it.",
        )
    row = ds.sel(time=stamp)
    values = {name: float(row[name]) for name, _ in PARAMETERS.values()}
    missing = [name for name, value in values.items() if math.isnan(value)]
    if missing:
        raise UpstreamError(
            f"NASA POWER has no {', '.join(missing)} for {wanted} at "
            f"{ds.attrs.get('latitude'):.4f}, {ds.attrs.get('longitude'):.4f}.",
            "Pick another month, or enter the climate values by hand.",
            service=SERVICE,
        )
    return ClimateValues(**values)


def fetch_month_climate(
    point: Point, month: Month | str, settings: Settings, client: HttpClient | None = None
) -> ClimateValues:
    """NASA POWER's climate of one month at a point: `fetch_climate` of that month, then `climate_for_month`.

    Raises:
        BadRequestError: a month in the future or before POWER's first year.
        UpstreamError: POWER failed, or has no (complete) value for the month.
    """
    wanted = Month.parse(month)
    return climate_for_month(fetch_climate(point, wanted, wanted, settings, client=client), wanted)
