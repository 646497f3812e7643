"""OpenStreetMap raster tiles around a point: the layout image the map-conditioned generators expect.

Slippy-map tiles (Web Mercator, 256 px, `{z}/{x}/{y}`) come from the tile server in
`settings.osm_tile_url` through `core.io.http.HttpClient` (timeouts, retries, on-disk cache, offline
mode). The layout is cut at the zoom a model was trained on without resampling, so its ground
size per pixel is the tile's (about 1.2 m at zoom 17 on the equator), not Sentinel-2's 10 m.
The tile server's usage policy asks for attribution, which every layout carries.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, UpstreamError
from core.geo import Point

TILE_SIZE_PX = 256
# Web Mercator's latitude limit: tiles do not exist beyond it.
MAX_MERCATOR_LAT = 85.05112878
EARTH_CIRCUMFERENCE_M = 2 * math.pi * 6378137.0
MAX_ZOOM = 19
SERVICE = "OpenStreetMap tiles"


def _check_zoom(zoom: int) -> int:
    if isinstance(zoom, bool) or not isinstance(zoom, int) or not 0 <= zoom <= MAX_ZOOM:
        raise BadRequestError(f"The tile zoom {zoom!r} is not a whole number 0..{MAX_ZOOM}.", "Use e.g. 17.")
    return zoom


def _check_lat(lat: float) -> None:
    if abs(lat) > MAX_MERCATOR_LAT:
        raise BadRequestError(
            f"Latitude {lat:g} is outside Web Mercator's ±{MAX_MERCATOR_LAT:.2f}, where map tiles exist.",
            "Pick a place nearer the equator for map-conditioned generators.",
        )


def global_pixel(lat: float, lon: float, zoom: int) -> tuple[float, float]:
    """The point's position in the zoom level's whole-world pixel grid (x east, y south)."""
    _check_zoom(zoom)
    _check_lat(lat)
    scale = TILE_SIZE_PX * 2**zoom
    x = (lon + 180.0) / 360.0 * scale
    sin_lat = math.sin(math.radians(lat))
    y = (0.5 - math.log((1 + sin_lat) / (1 - sin_lat)) / (4 * math.pi)) * scale
    return x, y


def tile_index(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """(x, y) of the tile holding the point (the OSM wiki's "lon/lat to tile numbers")."""
    x, y = global_pixel(lat, lon, zoom)
    last = 2**zoom - 1
    return min(int(x // TILE_SIZE_PX), last), min(int(y // TILE_SIZE_PX), last)


def metres_per_pixel(lat: float, zoom: int) -> float:
    """Ground size of one tile pixel at this latitude and zoom."""
    _check_zoom(zoom)
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(lat)) / (TILE_SIZE_PX * 2**zoom)


@dataclass(frozen=True)
class OsmLayout:
    """A rendered OpenStreetMap layout centred on a point.

    Attributes:
        image: uint8 size_px x size_px x 3.
        zoom: the tile zoom it was cut at.
        tiles: the (x, y) tiles it was stitched from.
        metres_per_pixel: ground size of one pixel at the centre.
        attribution: the credit the tile server requires.
        tile_url: the tile URL template used.
    """

    image: np.ndarray = field(repr=False)
    zoom: int
    tiles: tuple[tuple[int, int], ...]
    metres_per_pixel: float
    attribution: str
    tile_url: str

    def to_metadata(self) -> dict[str, object]:
        return {
            "source": "openstreetmap",
            "zoom": self.zoom,
            "tiles": [list(t) for t in self.tiles],
            "metres_per_pixel": round(self.metres_per_pixel, 4),
            "attribution": self.attribution,
            "tile_url": self.tile_url,
        }


def tile_url(template: str, zoom: int, x: int, y: int) -> str:
    if "{z}" not in template or "{x}" not in template or "{y}" not in template:
        raise BadRequestError(
            f"The tile URL {template!r} lacks a {{z}}, {{x}} or {{y}} field.",
            "Set ECOMAPPER_OSM_TILE_URL to e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png.",
        )
    return template.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y))


def _decode_tile(content: bytes, url: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as img:
            tile = np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        raise UpstreamError(
            f"{SERVICE} answered {url} with something that is not an image.",
            "Check ECOMAPPER_OSM_TILE_URL points at a raster tile server.",
            service=SERVICE,
            url=url,
        ) from err
    if tile.shape[:2] != (TILE_SIZE_PX, TILE_SIZE_PX):
        raise UpstreamError(
            f"{SERVICE} tile {url} is {tile.shape[1]} x {tile.shape[0]} px, not {TILE_SIZE_PX} x {TILE_SIZE_PX}.",
            "Use a standard 256 px raster tile server.",
            service=SERVICE,
            url=url,
        )
    return tile


def fetch_layout(point: Point, zoom: int, size_px: int, settings: Settings, client=None) -> OsmLayout:
    """The size_px x size_px OpenStreetMap layout centred on `point` at tile zoom `zoom` (no resampling).

    Tiles are cached on disk by the HTTP client, so a second call for the same place works offline.

    Raises:
        BadRequestError: bad zoom / size, a latitude outside Web Mercator, or a bad tile URL template.
        UpstreamError: the tile server failed or returned something that is not a 256 px image.
    """
    from core.io.http import HttpClient

    _check_zoom(zoom)
    if isinstance(size_px, bool) or not isinstance(size_px, int) or not 16 <= size_px <= 2048:
        raise BadRequestError(f"The layout size {size_px!r} px is not 16..2048.", "Use the generator's size, e.g. 512.")
    client = client or HttpClient(settings)
    cx, cy = global_pixel(point.lat, point.lon, zoom)
    left, top = round(cx - size_px / 2), round(cy - size_px / 2)
    first_x, first_y = left // TILE_SIZE_PX, top // TILE_SIZE_PX
    last_x, last_y = (left + size_px - 1) // TILE_SIZE_PX, (top + size_px - 1) // TILE_SIZE_PX
    n = 2**zoom
    mosaic = np.zeros(((last_y - first_y + 1) * TILE_SIZE_PX, (last_x - first_x + 1) * TILE_SIZE_PX, 3), np.uint8)
    used: list[tuple[int, int]] = []
    for ty in range(first_y, last_y + 1):
        for tx in range(first_x, last_x + 1):
            if not 0 <= ty < n:
                continue  # beyond the poles' edge of the map: leave blank
            wrapped = tx % n  # across the antimeridian
            url = tile_url(settings.osm_tile_url, zoom, wrapped, ty)
            # cache only tiles that decode, so one error page is not replayed forever
            response = client.request("GET", url, service=SERVICE, store=False)
            tile = _decode_tile(response.content, url)
            if not response.from_cache:
                client.cache.put(response.cache_key, response.content, ".body")
            row, col = (ty - first_y) * TILE_SIZE_PX, (tx - first_x) * TILE_SIZE_PX
            mosaic[row : row + TILE_SIZE_PX, col : col + TILE_SIZE_PX] = tile
            used.append((wrapped, ty))
    off_x, off_y = left - first_x * TILE_SIZE_PX, top - first_y * TILE_SIZE_PX
    image = np.ascontiguousarray(mosaic[off_y : off_y + size_px, off_x : off_x + size_px])
    return OsmLayout(
        image=image,
        zoom=zoom,
        tiles=tuple(used),
        metres_per_pixel=metres_per_pixel(point.lat, zoom),
        attribution=settings.osm_attribution,
        tile_url=settings.osm_tile_url,
    )
