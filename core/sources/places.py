"""Offline reverse geocoding of a point to (state, country) for the prompt, with a land check.

Names come from the `reverse-geocode` package (GeoNames places with population >= 1000, offline).
It always answers with the nearest place, even for a point in the middle of an ocean, so a land
check comes first: `roaring-landmask`'s GSHHG raster mask (maintained, offline). Its mask is
conservative: a point it calls water is water, while coastal water near land passes, which is
what we want for a 5 km footprint that may include the coast.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from core.errors import BadRequestError
from core.geo import Point

log = logging.getLogger(__name__)


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


def reverse_geocode(point: Point) -> Place:
    """State and country of a point on land, offline.

    Raises:
        BadRequestError: the point is in the open sea.
    """
    import reverse_geocode as rg

    ensure_on_land(point)
    found = rg.get((point.lat, point.lon))
    state = (found.get("state") or "").strip() or None
    return Place(
        state=state,
        country=str(found.get("country") or found.get("country_code") or "").strip(),
        country_code=str(found.get("country_code") or "").strip(),
        nearest_place=str(found.get("city") or ""),
    )
