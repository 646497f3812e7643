"""Place names by the boundary that contains the point, in the dataset's naming convention."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from core.errors import EcoMapperError
from core.geo import Point
from core.sources.boundaries import BoundaryIndex, load_boundaries
from core.sources.place_names import dataset_country_name
from core.sources.places import reverse_geocode

# A point in Strasbourg's Rhine port (France); the nearest town of the gazetteer is Kehl (Germany).
PORT_DU_RHIN = Point(48.574, 7.797)


def _box(min_lon, min_lat, max_lon, max_lat) -> dict:
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat], [min_lon, min_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_boundaries(path) -> None:
    """A small admin-1 file in Natural Earth's layout: the Rhine at 7.803 E as the border."""
    features = [
        {"type": "Feature", "properties": {"name": "Grand Est", "admin": "France", "iso_a2": "FR"},
         "geometry": _box(7.0, 48.0, 7.803, 49.0)},
        {"type": "Feature", "properties": {"name": "Baden-Württemberg", "admin": "Germany", "iso_a2": "DE"},
         "geometry": _box(7.803, 48.0, 8.6, 49.0)},
        {"type": "Feature", "properties": {"name": "Krasnoyarsk Krai", "admin": "Russian Federation", "iso_a2": "RU"},
         "geometry": _box(85.0, 50.0, 100.0, 60.0)},
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def test_the_containing_polygon_decides_not_the_nearest_town(tmp_path, settings):
    nearest = reverse_geocode(PORT_DU_RHIN)
    assert nearest.country == "Germany"  # the gazetteer's nearest town (Kehl) is across the Rhine
    file = tmp_path / "admin1.geojson"
    write_boundaries(file)
    place = reverse_geocode(PORT_DU_RHIN, settings.with_(boundaries_url=str(file)))
    assert (place.state, place.country, place.country_code) == ("Grand Est", "France", "FR")
    assert place.nearest_place == "Kehl"
    east = reverse_geocode(Point(48.574, 7.81), boundaries=BoundaryIndex.from_geojson(file))
    assert (east.state, east.country) == ("Baden-Württemberg", "Germany")
    # names from the boundary file follow the dataset's convention too
    russia = reverse_geocode(Point(56.35, 93.70), boundaries=BoundaryIndex.from_geojson(file))
    assert (russia.state, russia.country) == ("Krasnoyarsk Krai", "Russia")
    # outside every polygon: the gazetteer, still with the dataset's names
    assert reverse_geocode(Point(32.0, 53.0), boundaries=BoundaryIndex.from_geojson(file)).country == "Iran"


@pytest.mark.parametrize(
    ("point", "country"),
    [
        (Point(56.35, 93.70), "Russia"),
        (Point(32.0, 53.0), "Iran"),
        (Point(36.5, 127.8), "South Korea"),
        (Point(-2.5, 28.0), "Democratic Republic of the Congo"),
        (Point(35.0, 38.0), "Syria"),
        (Point(-6.0, 35.0), "Tanzania"),
    ],
)
def test_gazetteer_names_are_mapped_to_the_datasets(point, country):
    assert reverse_geocode(point).country == country


def test_mapping_keeps_names_that_already_follow_the_convention():
    assert dataset_country_name("Canada") == "Canada"
    assert dataset_country_name("Russian Federation") == "Russia"
    assert dataset_country_name(" Viet Nam ") == "Vietnam"


def test_boundaries_are_fetched_once_and_then_read_offline(tmp_path, settings):
    served = tmp_path / "served"
    served.mkdir()
    write_boundaries(served / "admin1.geojson")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/admin1.geojson"
        online = settings.with_(boundaries_url=url)
        assert load_boundaries(online).region_at(PORT_DU_RHIN).country == "France"
    finally:
        server.shutdown()
        server.server_close()
    cached = settings.cache_dir / "boundaries" / "admin1.geojson"
    assert cached.is_file()
    offline = settings.with_(boundaries_url=url, offline=True)  # the server is gone: the cache answers
    assert reverse_geocode(PORT_DU_RHIN, offline).country == "France"
    with pytest.raises(EcoMapperError, match="not cached"):
        load_boundaries(offline.with_(cache_dir=tmp_path / "empty"))
