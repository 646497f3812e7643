"""OpenStreetMap tile maths at the trained zoom, and the tile source against a local tile server."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.errors import BadRequestError, OfflineCacheMissError, UpstreamError
from core.geo import Point
from core.sources.osm_tiles import (
    MAX_MERCATOR_LAT,
    fetch_layout,
    global_pixel,
    metres_per_pixel,
    tile_index,
    tile_url,
)
from tests.support.tile_server import TileServer, tile_colour


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        # the map's corners and centre at zoom 17 (2^17 = 131072 tiles per side)
        (MAX_MERCATOR_LAT - 1e-9, -180.0, (0, 0)),
        (-MAX_MERCATOR_LAT + 1e-9, 180.0 - 1e-9, (131071, 131071)),
        (1e-7, 1e-7, (65536, 65535)),  # just north-east of (0, 0): the tile right of and above the centre line
        (-1e-7, -1e-7, (65535, 65536)),
    ],
)
def test_tile_index_at_zoom_17(lat, lon, expected):
    assert tile_index(lat, lon, 17) == expected


def test_tile_index_matches_lower_zoom_parent():
    # a zoom-17 tile's parent at zoom 16 is (x // 2, y // 2): the same point in both grids
    x17, y17 = tile_index(55.9533, -3.1883, 17)
    assert tile_index(55.9533, -3.1883, 16) == (x17 // 2, y17 // 2)
    # Edinburgh is west of Greenwich and north of the equator: left half, top half
    assert x17 < 65536 and y17 < 65536


def test_ground_resolution_at_zoom_17():
    # the OSM wiki "Zoom levels" table: 1.194 m/px at zoom 17 on the equator, scaled by cos(lat)
    assert metres_per_pixel(0.0, 17) == pytest.approx(1.1943, abs=1e-4)
    assert metres_per_pixel(60.0, 17) == pytest.approx(1.1943 * math.cos(math.radians(60)), abs=1e-4)


def test_bad_inputs_are_bad_requests():
    with pytest.raises(BadRequestError, match="Web Mercator"):
        global_pixel(86.0, 0.0, 17)
    with pytest.raises(BadRequestError, match="zoom"):
        tile_index(0.0, 0.0, 25)
    with pytest.raises(BadRequestError, match="lacks a"):
        tile_url("https://example.org/tiles.png", 17, 1, 2)


def test_layout_is_stitched_from_the_right_tiles(settings):
    point = Point(55.9533, -3.1883)
    with TileServer() as server:
        settings = settings.with_(osm_tile_url=server.url_template)
        layout = fetch_layout(point, 17, 512, settings)
        cx, cy = global_pixel(point.lat, point.lon, 17)
        tx, ty = tile_index(point.lat, point.lon, 17)
        # the centre pixel comes from the tile holding the point
        assert tuple(layout.image[256, 256]) == tile_colour(17, tx, ty)
        # 512 px at native tile scale spans 2 or 3 tiles per side; every one was fetched once
        assert len(layout.tiles) == len(set(layout.tiles)) == len(server.requests)
        assert len(layout.tiles) in (4, 6, 9)
        # the top-left pixel is the tile at the window's corner
        corner = (int((cx - 256 + 0.5) // 256), int((cy - 256 + 0.5) // 256))
        assert tuple(layout.image[0, 0]) == tile_colour(17, *corner)
        assert layout.image.shape == (512, 512, 3) and layout.image.dtype == np.uint8
        assert layout.attribution == settings.osm_attribution
        assert layout.to_metadata()["zoom"] == 17
        # the second call is served from the cache, also offline
        again = fetch_layout(point, 17, 512, settings.with_(offline=True))
        assert np.array_equal(again.image, layout.image)
        assert len(server.requests) == len(layout.tiles)
    with pytest.raises(OfflineCacheMissError):
        fetch_layout(Point(10.0, 10.0), 17, 512, settings.with_(offline=True))


def test_layout_across_the_antimeridian_wraps_tiles(settings):
    with TileServer() as server:
        layout = fetch_layout(Point(0.0, 179.9995), 17, 256, settings.with_(osm_tile_url=server.url_template))
    xs = {x for x, _ in layout.tiles}
    assert 0 in xs and 131071 in xs


def test_a_tile_that_is_not_an_image_is_an_upstream_error(settings):
    with TileServer() as server:
        server.broken = True
        tiles = settings.with_(osm_tile_url=server.url_template)
        with pytest.raises(UpstreamError, match="not an image"):
            fetch_layout(Point(1.0, 1.0), 17, 256, tiles)
        # the error page was not cached: once the server heals, the layout is fetched
        server.broken = False
        assert fetch_layout(Point(1.0, 1.0), 17, 256, tiles).image.shape == (256, 256, 3)
