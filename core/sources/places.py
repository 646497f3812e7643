"""Offline reverse geocoding of a point to (state, country) for the prompt, with a land check.

Names come from the administrative boundary that contains the point when boundaries are configured
(`Settings.boundaries_url`, `core.sources.boundaries`: point in polygon, offline after the first
fetch), else from the `reverse-geocode` package (GeoNames places with population >= 1000, offline),
whose nearest town can lie across a border. Country names follow the EcoMapper dataset's convention
("Russia", not "Russian Federation"; `core.sources.place_names`).
It always answers with the nearest place, even for a point in the middle of an ocean, so a land
check comes first: `roaring-landmask`'s GSHHG raster mask (maintained, offline). Its mask is
conservative: a point it calls water is water, while coastal water near land passes, which is
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
        settings: with `boundaries_url` set, the containing admin-1 polygon names the place.
        boundaries: a `core.sources.boundaries.BoundaryIndex` to use directly.

    Raises:
        BadRequestError: the point is in the open sea.
    """
    import reverse_geocode as rg

    from core.sources.place_names import dataset_country_name

    ensure_on_land(point)
    found = rg.get((point.lat, point.lon))
    nearest = str(found.get("city") or "")
    if boundaries is None and settings is not None:
        boundaries = boundaries_or_none(settings)
    if boundaries is not None:
        region = boundaries.region_at(point)
        if region is not None:
            return Place(
                state=region.state,
                country=region.country,
                country_code=region.country_code or str(found.get("country_code") or ""),
                nearest_place=nearest,
            )
        log.info("no boundary polygon contains %s; using the nearest town", point.label())
    state = (found.get("state") or "").strip() or None
    country = str(found.get("country") or found.get("country_code") or "").strip()
    return Place(
        state=state,
        country=dataset_country_name(country),
        country_code=str(found.get("country_code") or "").strip(),
        nearest_place=nearest,
    )


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
                "Place names come from the nearest town, not the administrative boundaries: %s "
                "Fix: run once online so %s is fetched into the cache, set ECOMAPPER_BOUNDARIES_URL to a "
                "local admin-1 GeoJSON file, or set it empty to use the nearest town without this warning.",
                _unavailable_boundaries[key],
                source,
            )
        return None
