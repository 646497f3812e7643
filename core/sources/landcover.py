"""The 15 EcoMapper land-cover classes and the majority class over a footprint from a real product.

Classes: MODIS Land Cover Type 1 (IGBP) of MCD12Q1 (collection 6.1 user guide, table 3), codes
1..16 without 15 (Permanent Snow and Ice) and 17 (Water Bodies), as EcoMapper uses them.
Sources (through a STAC API, by default the Planetary Computer, tried in this order):
`modis-12Q1-061` asset `LC_Type1` (500 m, the classes themselves) and `esa-worldcover` asset
`map` (10 m, mapped onto the classes with WORLDCOVER_TO_IGBP below).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, UpstreamError
from core.geo import Footprint, Point
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient
from core.sources.land_cover_classes import LAND_COVER_CLASSES
from core.sources.stac import PlanetaryComputerSigner, search_items

log = logging.getLogger(__name__)

# IGBP code (MCD12Q1 LC_Type1) -> class name, EcoMapper's 15 classes.
EVERGREEN_NEEDLELEAF_FORESTS = "Evergreen Needleleaf Forests"
EVERGREEN_BROADLEAF_FORESTS = "Evergreen Broadleaf Forests"
DECIDUOUS_NEEDLELEAF_FORESTS = "Deciduous Needleleaf Forests"
DECIDUOUS_BROADLEAF_FORESTS = "Deciduous Broadleaf Forests"
MIXED_FORESTS = "Mixed Forests"
CLOSED_SHRUBLANDS = "Closed Shrublands"
OPEN_SHRUBLANDS = "Open Shrublands"
WOODY_SAVANNAS = "Woody Savannas"
SAVANNAS = "Savannas"
GRASSLANDS = "Grasslands"
PERMANENT_WETLANDS = "Permanent Wetlands"
CROPLANDS = "Croplands"
URBAN_AND_BUILT_UP_LANDS = "Urban and Built-up Lands"
CROPLAND_NATURAL_VEGETATION_MOSAICS = "Cropland/Natural Vegetation Mosaics"
BARREN_OR_SPARSELY_VEGETATED = "Barren or Sparsely Vegetated"

IGBP_CODES: dict[int, str] = {
    1: EVERGREEN_NEEDLELEAF_FORESTS,
    2: EVERGREEN_BROADLEAF_FORESTS,
    3: DECIDUOUS_NEEDLELEAF_FORESTS,
    4: DECIDUOUS_BROADLEAF_FORESTS,
    5: MIXED_FORESTS,
    6: CLOSED_SHRUBLANDS,
    7: OPEN_SHRUBLANDS,
    8: WOODY_SAVANNAS,
    9: SAVANNAS,
    10: GRASSLANDS,
    11: PERMANENT_WETLANDS,
    12: CROPLANDS,
    13: URBAN_AND_BUILT_UP_LANDS,
    14: CROPLAND_NATURAL_VEGETATION_MOSAICS,
    # 15 Permanent Snow and Ice: not an EcoMapper class
    16: BARREN_OR_SPARSELY_VEGETATED,
    # 17 Water Bodies: not an EcoMapper class
}
# The names in order live in core.sources.land_cover_classes (so prompts need not import this module);
# the codes above must spell the same 15 names (a test checks).
__all__ = ["IGBP_CODES", "LAND_COVER_CLASSES", "LandCoverLookup", "check_land_cover", "lookup_land_cover"]

# ESA WorldCover v100/v200 class -> IGBP code. WorldCover has fewer, broader classes, so:
# tree cover cannot tell leaf type or phenology -> Mixed Forests; shrubland -> Open Shrublands
# (its shrub cover threshold is low); mangroves are evergreen broadleaf trees; moss and lichen
# are sparse vegetation. Snow/ice (70) and water (80) have no EcoMapper class.
WORLDCOVER_TO_IGBP: dict[int, int] = {
    10: 5,  # Tree cover -> Mixed Forests
    20: 7,  # Shrubland -> Open Shrublands
    30: 10,  # Grassland -> Grasslands
    40: 12,  # Cropland -> Croplands
    50: 13,  # Built-up -> Urban and Built-up Lands
    60: 16,  # Bare / sparse vegetation -> Barren or Sparsely Vegetated
    90: 11,  # Herbaceous wetland -> Permanent Wetlands
    95: 2,  # Mangroves -> Evergreen Broadleaf Forests
    100: 16,  # Moss and lichen -> Barren or Sparsely Vegetated
}
# Read size of the footprint for the majority (the products are 10 m and 500 m: 128 px is 40 m).
READ_PX = 128


@dataclass(frozen=True)
class LandCoverSource:
    collection: str
    asset: str
    to_igbp: dict[int, int] | None  # None: the values are IGBP codes already
    label: str


SOURCES = (
    LandCoverSource("modis-12Q1-061", "LC_Type1", None, "MODIS MCD12Q1 v6.1 LC_Type1 (IGBP), 500 m"),
    LandCoverSource("esa-worldcover", "map", WORLDCOVER_TO_IGBP, "ESA WorldCover, 10 m, mapped to IGBP"),
)


@dataclass(frozen=True)
class LandCoverLookup:
    """The class over a footprint, or `land_cover=None` meaning "choose one" (never a guess)."""

    land_cover: str | None
    source: str
    shares: dict[str, float] = field(default_factory=dict)
    message: str = ""
    # no class because a service failed (not because there is no land data): a script must not take it as an answer
    service_failed: bool = False

    def __post_init__(self) -> None:
        if self.land_cover is not None and self.land_cover not in LAND_COVER_CLASSES:
            raise ValueError(f"{self.land_cover!r} is not one of the 15 land-cover classes")

    def as_dict(self) -> dict:
        return {
            "land_cover": self.land_cover,
            "source": self.source,
            "shares": self.shares,
            "message": self.message,
            "service_failed": self.service_failed,
        }


def class_shares(codes: np.ndarray, to_igbp: dict[int, int] | None) -> dict[str, float]:
    """Share of each of the 15 classes among the footprint's land pixels (water, snow, nodata left out)."""
    values = codes.ravel().astype(np.int64)
    if to_igbp is not None:
        lookup = np.zeros(max(256, values.max(initial=0) + 1), dtype=np.int64)
        for source_code, igbp in to_igbp.items():
            lookup[source_code] = igbp
        values = lookup[values]
    counts = Counter(int(v) for v in values if int(v) in IGBP_CODES)
    total = sum(counts.values())
    if total == 0:
        return {}
    return {IGBP_CODES[code]: round(n / total, 4) for code, n in counts.most_common()}


def _latest(items: list[dict]) -> dict:
    def start(item: dict) -> str:
        props = item.get("properties") or {}
        return str(props.get("start_datetime") or props.get("datetime") or "")

    return max(items, key=start)


def _lookup_source(
    source: LandCoverSource, point: Point, settings: Settings, client: HttpClient, signer: PlanetaryComputerSigner
) -> dict[str, float] | None:
    """Class shares over the footprint; None when no item of the source covers it."""
    from core.sources.cog import read_footprint

    footprint = Footprint.around(point)
    items = search_items(
        client,
        f"{settings.landcover_stac_url}/search",
        {"collections": [source.collection], "bbox": [round(v, 6) for v in footprint.bbox_parts()[0]], "limit": 20},
        service=f"land-cover STAC API ({source.collection})",
        collection=source.collection,
    )
    items = [i for i in items if source.asset in (i.get("assets") or {})]
    if not items:
        return None
    item = _latest(items)
    href = item["assets"][source.asset]["href"]
    if settings.landcover_stac_url == settings.pc_stac_url:
        href = signer.sign(href, source.collection)
    read = read_footprint(href, footprint, settings, indexes=[1], size_px=READ_PX)
    return class_shares(read.data[0], source.to_igbp)


def lookup_land_cover(point: Point, settings: Settings, client: HttpClient | None = None) -> LandCoverLookup:
    """The majority land-cover class over the point's footprint, from the first source that has data.

    Returns `land_cover=None` with a message asking the user to choose when no source is reachable
    or none has land pixels there. Cached on disk by point, so a second look-up works offline.
    """
    from core.sources.places import ensure_on_land

    ensure_on_land(point)
    cache = DiskCache(settings.cache_dir, "landcover")
    key = request_key("landcover-v1", settings.landcover_stac_url, round(point.lat, 6), round(point.lon, 6))
    cached = cache.get_json(key)
    if cached is not None:
        return LandCoverLookup(**cached)
    client = client or HttpClient(settings)
    signer = PlanetaryComputerSigner(settings, client)
    problems = []
    failed = False
    for source in SOURCES:
        try:
            shares = _lookup_source(source, point, settings, client, signer)
        except UpstreamError as err:
            log.warning("land cover from %s failed: %s", source.collection, err)
            problems.append(f"{source.collection}: {err.problem}")
            failed = True
            continue
        if shares is None:
            problems.append(f"{source.collection}: no item covers this place")
            continue
        if shares:
            majority = next(iter(shares))
            result = LandCoverLookup(
                land_cover=majority,
                source=source.label,
                shares=shares,
                message=f"{majority} covers {shares[majority]:.0%} of the footprint ({source.label}).",
            )
            cache.put_json(key, result.as_dict())
            return result
        problems.append(f"{source.collection}: no land pixels in the footprint")
    # Not cached: the source may be reachable next time.
    return LandCoverLookup(
        land_cover=None,
        source="",
        shares={},
        message="No land-cover product could be read for this place ("
        + "; ".join(problems)
        + "). Please choose one of the 15 land-cover classes.",
        service_failed=failed,
    )


def check_land_cover(name: str) -> str:
    """Validate a user-given class name (case-insensitive) and return its canonical spelling."""
    for known in LAND_COVER_CLASSES:
        if known.lower() == str(name).strip().lower():
            return known
    raise BadRequestError(f"{name!r} is not a land-cover class.", f"Choose one of: {', '.join(LAND_COVER_CLASSES)}.")
