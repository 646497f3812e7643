"""One model's monthly climatology at a place: nearest land grid cell, a span of years, CMIP6 units converted.

Everything here works on lazy xarray objects, so indexing one cell and the years of a period
reads only the chunks that hold them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from core.errors import EcoMapperError, UpstreamError
from core.geo import Point

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0
SECONDS_PER_DAY = 86400.0
# 1 W m-2 sustained for a day = 86400 J m-2 = 0.0864 MJ m-2 day-1.
W_M2_TO_MJ_M2_DAY = SECONDS_PER_DAY / 1e6
KELVIN_OFFSET = 273.15
# CMIP6 variable -> (our name, the units CMIP6 stores it in).
CMIP6_VARIABLES: dict[str, tuple[str, str]] = {
    "tas": ("temp_c", "K"),
    "pr": ("precip_mm_day", "kg m-2 s-1"),
    "rsds": ("solar_mj_m2_day", "W m-2"),
}
# A cell is land when at least half of it is (sftlf is a percentage).
LAND_FRACTION_THRESHOLD_PCT = 50.0
# Each calendar month needs this share of the period's years (a run may end a few months early).
MIN_YEAR_COVERAGE = 0.8


class ModelDataError(EcoMapperError):
    """One model's store cannot serve this projection (grid, units, years); the model is left out."""


@dataclass(frozen=True)
class GridCell:
    lat_index: int
    lon_index: int
    lat: float
    lon: float  # as the model writes it (0..360 for most models)
    distance_km: float
    land_source: str  # "sftlf", "landmask" or "any" (no land information)


def to_project_units(variable: str, values: np.ndarray, units: str) -> np.ndarray:
    """CMIP6 values in °C, mm/day or MJ m-2 day-1 (from K, kg m-2 s-1, W m-2).

    Raises:
        ModelDataError: the store reports units we do not know how to convert.
    """
    expected = CMIP6_VARIABLES[variable][1]
    spelled = " ".join(str(units).split())
    if spelled != expected:
        raise ModelDataError(
            f"{variable} is in {units!r}, not the CMIP6 units {expected!r}.", "The model is left out of the ensemble."
        )
    if variable == "tas":
        return values - KELVIN_OFFSET
    if variable == "pr":
        # 1 kg of water over 1 m2 is a 1 mm layer.
        return values * SECONDS_PER_DAY
    return values * W_M2_TO_MJ_M2_DAY


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: float, lon2: float) -> np.ndarray:
    """Haversine distance; longitudes in any convention (0..360 or -180..180) compare correctly."""
    phi1, phi2 = np.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2 - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * math.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def grid_axes(ds) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D `lat` and `lon` cell centres of a regular grid.

    Raises:
        ModelDataError: the store is not on a regular lat/lon grid with those names.
    """
    if "lat" not in ds.coords or "lon" not in ds.coords or ds["lat"].ndim != 1 or ds["lon"].ndim != 1:
        raise ModelDataError(
            "The store is not on a regular grid with 1-D lat and lon coordinates.",
            "The model is left out of the ensemble.",
        )
    return np.asarray(ds["lat"].values, dtype="float64"), np.asarray(ds["lon"].values, dtype="float64")


def land_mask_at_centres(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Land (True) per cell centre from the GSHHG mask, for models without a land fraction."""
    from core.sources.places import _land_mask

    mask = _land_mask()
    grid_lon, grid_lat = np.meshgrid(((lons + 180.0) % 360.0) - 180.0, lats)
    inside = [mask.contains(float(x), float(y)) for x, y in zip(grid_lon.ravel(), grid_lat.ravel(), strict=True)]
    return np.array(inside, dtype=bool).reshape(grid_lat.shape)


def nearest_land_cell(
    lats: np.ndarray, lons: np.ndarray, point: Point, land: np.ndarray | None, source: str
) -> GridCell:
    """The grid cell nearest to `point` whose land mask is True (any cell when `land` is None).

    Raises:
        ModelDataError: the grid has no land cell at all.
    """
    grid_lon, grid_lat = np.meshgrid(lons, lats)
    distance = great_circle_km(grid_lat, grid_lon, point.lat, point.lon)
    if land is not None:
        if not land.any():
            raise ModelDataError("The model's land fraction has no land cell.", "The model is left out.")
        distance = np.where(land, distance, np.inf)
    iy, ix = np.unravel_index(int(np.argmin(distance)), distance.shape)
    return GridCell(int(iy), int(ix), float(lats[iy]), float(lons[ix]), float(distance[iy, ix]), source)


def land_from_fraction(ds_land, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """sftlf >= 50 % as a boolean grid, checked to be on the same grid as the data."""
    land_lats, land_lons = grid_axes(ds_land)
    if (
        land_lats.shape != lats.shape
        or land_lons.shape != lons.shape
        or not (np.allclose(land_lats, lats) and np.allclose(land_lons, lons))
    ):
        raise ModelDataError("The model's land fraction is on another grid than its data.", "The model is left out.")
    return np.asarray(ds_land["sftlf"].values) >= LAND_FRACTION_THRESHOLD_PCT


def year_month(ds) -> tuple[np.ndarray, np.ndarray]:
    """Year and calendar month of every time step, whatever the model's calendar (cftime dates)."""
    if "time" not in ds.coords:
        raise ModelDataError("The store has no time coordinate.", "The model is left out.")
    return np.asarray(ds["time"].dt.year.values), np.asarray(ds["time"].dt.month.values)


def period_indices(years: np.ndarray, months: np.ndarray, first: int, last: int, what: str) -> np.ndarray:
    """Indices of the time steps in [first, last]; every calendar month must be (mostly) covered.

    Raises:
        ModelDataError: the run does not cover the period.
    """
    inside = (years >= first) & (years <= last)
    wanted = (last - first + 1) * MIN_YEAR_COVERAGE
    for month in range(1, 13):
        count = int(np.count_nonzero(inside & (months == month)))
        if count < wanted:
            span = f"{int(years.min())}-{int(years.max())}" if years.size else "no years"
            raise ModelDataError(
                f"The {what} run covers {span}, which lacks {first}-{last} (month {month}: {count} years).",
                "The model is left out of the ensemble.",
            )
    return np.flatnonzero(inside)


def monthly_means(values: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Mean per calendar month (12 values) of a 1-D series, ignoring missing values."""
    out = np.full(12, np.nan)
    for month in range(1, 13):
        chosen = values[months == month]
        chosen = chosen[np.isfinite(chosen)]
        if chosen.size:
            out[month - 1] = float(chosen.mean())
    return out


def cell_climatology(ds, variable: str, cell: GridCell, first: int, last: int, what: str) -> np.ndarray:
    """Monthly means (12, project units) of `variable` at `cell` over the years first..last.

    Reads the index coordinates and only the chunks that hold this cell in these years.
    """
    if variable not in ds.data_vars:
        raise ModelDataError(f"The {what} store has no variable {variable}.", "The model is left out.")
    data = ds[variable]
    if data.dims != ("time", "lat", "lon"):
        raise ModelDataError(f"{variable} has dims {data.dims}, not (time, lat, lon).", "The model is left out.")
    years, months = year_month(ds)
    index = period_indices(years, months, first, last, what)
    try:
        raw = np.asarray(data.isel(lat=cell.lat_index, lon=cell.lon_index).isel(time=index).values, dtype="float64")
    except UpstreamError:
        raise
    except (OSError, ValueError, KeyError) as err:
        raise UpstreamError(
            f"Reading {variable} from the {what} store failed: {err}.", "Try again later.", service="CMIP6 Zarr store"
        ) from err
    # CF _FillValue (1e20) decodes to NaN already; guard against stores that only set missing_value.
    raw[np.abs(raw) >= 1e19] = np.nan
    converted = to_project_units(variable, raw, data.attrs.get("units", ""))
    means = monthly_means(converted, months[index])
    if np.isnan(means).any():
        raise ModelDataError(f"{variable} is missing at the chosen cell in {first}-{last}.", "The model is left out.")
    return means
