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
    # the gazetteer's nearest town (Kehl) is across the Rhine; the country polygon (offline) says France
    assert nearest.country == "France" and nearest.nearest_place == "Kehl"
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


def test_the_default_is_natural_earth_and_an_empty_variable_keeps_the_gazetteer():
    from core.config import NATURAL_EARTH_ADMIN1_URL, Settings

    assert Settings().boundaries_url == NATURAL_EARTH_ADMIN1_URL
    assert Settings.from_env({}).boundaries_url == NATURAL_EARTH_ADMIN1_URL
    assert Settings.from_env({"ECOMAPPER_BOUNDARIES_URL": ""}).boundaries_url == ""
    assert Settings.from_env({"ECOMAPPER_BOUNDARIES_URL": "/data/admin1.geojson"}).boundaries_url == (
        "/data/admin1.geojson"
    )


def _fallback_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "nearest town" in r.getMessage()]


def test_a_url_offline_without_a_cached_file_falls_back_to_the_nearest_town_warning_once(tmp_path, settings, caplog):
    from core.services import place_of

    elsewhere = settings.with_(boundaries_url="https://boundaries.invalid/admin1.geojson", offline=True)
    with caplog.at_level("WARNING", logger="core.sources.places"):
        first = place_of(PORT_DU_RHIN, elsewhere)
        second = place_of(PORT_DU_RHIN, elsewhere)
    # not a failure: the country polygon (installed, offline) says France although the nearest town is Kehl
    assert first == second and first.country == "France" and first.nearest_place == "Kehl"
    warnings = _fallback_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "not cached" in warnings[0] and "ECOMAPPER_BOUNDARIES_URL" in warnings[0]
    assert not (settings.cache_dir / "boundaries" / "admin1.geojson").exists()


def test_the_default_offline_is_answered_by_the_installed_natural_earth_polygons(natural_earth_settings, caplog):
    """Natural Earth's admin-1 layer as installed by the setup: the Rhine port is in Bas-Rhin, a French
    département, named by its region as the dataset writes regions; no warning, no download."""
    from core.services import place_of

    with caplog.at_level("WARNING", logger="core.sources.places"):
        port = place_of(PORT_DU_RHIN, natural_earth_settings)
        across = place_of(Point(48.574, 7.81), natural_earth_settings)  # the German bank of the Rhine
    assert (port.state, port.country, port.nearest_place) == ("Grand Est", "France", "Kehl")
    assert (across.state, across.country) == ("Baden-Württemberg", "Germany")
    assert not _fallback_warnings(caplog)
    assert not (natural_earth_settings.cache_dir / "boundaries").exists()


@pytest.mark.parametrize(
    ("point", "label"),
    [
        (Point(45.46, 9.19), "Lombardy, Italy"),  # Natural Earth: the province "Milano"
        (Point(41.4, 2.17), "Catalonia, Spain"),  # the province "Barcelona"
        (Point(51.5, -0.12), "England, United Kingdom"),  # the borough "Westminster"
        (Point(19.4, -99.1), "Mexico City, Mexico"),
        (Point(44.8, 20.46), "Belgrade, Serbia"),  # admin-0 "Republic of Serbia"
        (Point(55.0, 83.0), "Novosibirsk Oblast, Russia"),
    ],
)
def test_installed_polygons_give_first_level_english_names(point, label, natural_earth_settings):
    from core.services import place_of

    assert place_of(point, natural_earth_settings).label() == label


def test_the_compact_file_reads_back_as_the_geojson_it_came_from(tmp_path):
    from core.sources.boundaries import write_compact

    geojson, compact = tmp_path / "admin1.geojson", tmp_path / "admin1.npz"
    write_boundaries(geojson)
    assert write_compact(geojson, compact) == 3
    original, stored = BoundaryIndex.from_geojson(geojson), BoundaryIndex.from_compact(compact)
    assert stored.regions == original.regions
    assert [g.equals(h) for g, h in zip(stored.geometries, original.geometries, strict=True)] == [True] * 3
    assert stored.region_at(PORT_DU_RHIN).state == "Grand Est"


def test_a_failed_download_is_asked_once_per_process_and_the_place_still_comes(tmp_path, settings, caplog):
    from core.services import place_of

    asked = []

    class Missing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Missing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/admin1.geojson"
        online = settings.with_(boundaries_url=url, retries=0)
        with caplog.at_level("WARNING", logger="core.sources.places"):
            places = [place_of(PORT_DU_RHIN, online) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert {p.country for p in places} == {"France"}
    assert len(asked) == 1, asked  # remembered: not fetched again on every call
    assert len(_fallback_warnings(caplog)) == 1


def test_observe_names_the_place_by_the_containing_polygon(tmp_path, settings):
    from core.services import observe

    file = tmp_path / "admin1.geojson"
    write_boundaries(file)
    # Offline with an empty cache: the scene, climate and land cover say why they are missing, fast;
    # the place comes from the local boundary file.
    seen = observe(PORT_DU_RHIN, "2021-06", settings.with_(boundaries_url=str(file), offline=True))
    assert (seen.state, seen.country, seen.place_label) == ("Grand Est", "France", "Grand Est, France")
    assert seen.nearest_place  # the gazetteer's town is still given, as a landmark
    gazetteer = observe(PORT_DU_RHIN, "2021-06", settings.with_(offline=True))
    assert gazetteer.country == "France"  # no admin-1 file: the country still comes from its polygon
