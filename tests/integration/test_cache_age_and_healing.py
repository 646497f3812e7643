"""Caches that know their age and heal, against the replay server: expiry of a month not yet over,
corrupt entries fetched again, and a stale entry served (with its age) when the service fails."""

import json
import logging
import os
import time
from datetime import date

import numpy as np
import pytest

from core.errors import UpstreamError
from core.geo import Month, Point
from core.io.cache import DiskCache, fresh_month_max_age_s
from core.io.http import HttpClient
from core.sources.climate import fetch_climate
from core.sources.imagery import fetch_scene
from tests.support.replay_server import Fault

SAHARA = Point(24.8, -11.4)
FEB_2020 = Month(2020, 2)
# "today" inside February 2020: the month is not over, so its cached answers expire
MID_FEB_2020 = date(2020, 2, 20)


def _scene_entries(settings) -> tuple:
    root = DiskCache(settings.cache_dir, "scenes").root
    metas = sorted(root.rglob("*.json"))
    pngs = sorted(root.rglob("*.png"))
    assert len(metas) == len(pngs) == 1
    return metas[0], pngs[0]


def _age(path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_month_that_is_over_stays_cached_and_one_that_is_not_expires():
    class S:
        fresh_month_ttl_s = 3600.0

    assert fresh_month_max_age_s(FEB_2020, S, today=date(2020, 2, 20)) == 3600.0
    assert fresh_month_max_age_s(FEB_2020, S, today=date(2020, 3, 3)) == 3600.0  # late scenes still arrive
    assert fresh_month_max_age_s(FEB_2020, S, today=date(2020, 4, 1)) is None


def test_the_scene_of_a_month_not_over_is_chosen_again_after_the_ttl(replay_server, data_settings):
    settings = data_settings.with_(fresh_month_ttl_s=600.0)
    fetch_scene(SAHARA, FEB_2020, settings, today=MID_FEB_2020)
    searches = len(replay_server.requests_to("/stac/v1/search"))
    fetch_scene(SAHARA, FEB_2020, settings, today=MID_FEB_2020)  # fresh: from the cache
    assert len(replay_server.requests_to("/stac/v1/search")) == searches
    for path in _scene_entries(settings):
        _age(path, 3600)  # an hour later: older than the TTL
    for path in DiskCache(settings.cache_dir, "http").root.rglob("*.body"):
        _age(path, 3600)
    scene = fetch_scene(SAHARA, FEB_2020, settings, today=MID_FEB_2020)
    assert len(replay_server.requests_to("/stac/v1/search")) > searches  # searched again
    assert not any("served from the cache" in note for note in scene.notes)
    # once the month is over, the same old entry is used for good
    before = len(replay_server.requests_to("/stac/v1/search"))
    for path in _scene_entries(settings):
        _age(path, 10 * 86400)
    fetch_scene(SAHARA, FEB_2020, settings)
    assert len(replay_server.requests_to("/stac/v1/search")) == before


def test_a_stale_scene_is_served_with_its_age_when_the_service_fails(replay_server, data_settings, caplog):
    settings = data_settings.with_(fresh_month_ttl_s=600.0, retries=0)
    first = fetch_scene(SAHARA, FEB_2020, settings, today=MID_FEB_2020)
    for path in [*_scene_entries(settings), *DiskCache(settings.cache_dir, "http").root.rglob("*.body")]:
        _age(path, 3 * 3600)
    replay_server.inject("/stac/v1/search", *[Fault("status", status=503)] * 4)
    with caplog.at_level(logging.WARNING):
        scene = fetch_scene(SAHARA, FEB_2020, settings, today=MID_FEB_2020)
    np.testing.assert_array_equal(scene.image, first.image)
    assert any("served from the cache (3 h old)" in note for note in scene.notes)
    assert "3 h ago" in caplog.text


def test_without_a_cached_copy_the_failure_is_reported(replay_server, data_settings):
    replay_server.inject("/stac/v1/search", *[Fault("status", status=503)] * 4)
    with pytest.raises(UpstreamError, match="HTTP 503"):
        fetch_scene(SAHARA, FEB_2020, data_settings.with_(retries=0), today=MID_FEB_2020)


@pytest.mark.parametrize("damage", ["truncated png", "record missing a field", "truncated record"])
def test_a_corrupt_scene_entry_is_fetched_again(replay_server, data_settings, damage, caplog):
    first = fetch_scene(SAHARA, FEB_2020, data_settings)
    meta_path, png_path = _scene_entries(data_settings)
    whole_png, whole_meta = png_path.read_bytes(), json.loads(meta_path.read_text())
    if damage == "truncated png":
        png_path.write_bytes(png_path.read_bytes()[:2000])
    elif damage == "record missing a field":
        meta = json.loads(meta_path.read_text())
        del meta["crs"]
        meta_path.write_text(json.dumps(meta))
    else:
        meta_path.write_text(meta_path.read_text()[:40])
    with caplog.at_level(logging.WARNING):
        again = fetch_scene(SAHARA, FEB_2020, data_settings)
    np.testing.assert_array_equal(again.image, first.image)  # read again (the damaged entry cannot give it)
    assert again.crs == first.crs
    assert "discarding the cache entry" in caplog.text
    # healed: the entry is whole again and the next call is served from it
    assert png_path.read_bytes() == whole_png and json.loads(meta_path.read_text()) == whole_meta
    written = meta_path.stat().st_mtime_ns
    fetch_scene(SAHARA, FEB_2020, data_settings)
    assert meta_path.stat().st_mtime_ns == written


@pytest.mark.parametrize("entry", ["record", "image"])
def test_a_scene_entry_replaced_by_a_folder_heals(replay_server, data_settings, entry):
    # issue 26: a cache entry that became a folder failed every later call ("cache folder cannot be used")
    first = fetch_scene(SAHARA, FEB_2020, data_settings)
    meta_path, png_path = _scene_entries(data_settings)
    whole_png = png_path.read_bytes()
    path = meta_path if entry == "record" else png_path
    path.unlink()
    (path / "inside").mkdir(parents=True)
    again = fetch_scene(SAHARA, FEB_2020, data_settings)
    np.testing.assert_array_equal(again.image, first.image)
    assert png_path.read_bytes() == whole_png and json.loads(meta_path.read_text())["crs"] == first.crs


def test_a_truncated_cached_http_answer_is_fetched_again(replay_server, data_settings):
    client = HttpClient(data_settings)
    url = f"{data_settings.stac_url}/search"
    body = {"collections": ["sentinel-2-l2a"], "bbox": [-11.5, 24.7, -11.3, 24.9], "limit": 10}
    first = client.post_json(url, body, service="STAC")
    (entry,) = DiskCache(data_settings.cache_dir, "http").root.rglob("*.body")
    entry.write_bytes(entry.read_bytes()[:50])  # a torn cache file
    calls = len(replay_server.requests_to("/stac/v1/search"))
    assert client.post_json(url, body, service="STAC") == first  # not "the service may be down"
    assert len(replay_server.requests_to("/stac/v1/search")) == calls + 1
    assert json.loads(entry.read_bytes()) == first  # the entry is whole again


def test_stale_http_answer_is_served_when_the_service_fails(replay_server, data_settings, caplog):
    client = HttpClient(data_settings.with_(retries=0))
    url = f"{data_settings.stac_url}/search"
    body = {"collections": ["sentinel-2-l2a"], "bbox": [-11.5, 24.7, -11.3, 24.9], "limit": 10}
    first = client.post_json(url, body, service="STAC", max_age_s=60)
    (entry,) = DiskCache(data_settings.cache_dir, "http").root.rglob("*.body")
    _age(entry, 2 * 86400)
    replay_server.inject("/stac/v1/search", Fault("status", status=500))
    with caplog.at_level(logging.WARNING):
        assert client.post_json(url, body, service="STAC", max_age_s=60) == first
    assert "from 2 days ago" in caplog.text
    # and when the service answers, the old entry is replaced
    calls = len(replay_server.requests_to("/stac/v1/search"))
    client.post_json(url, body, service="STAC", max_age_s=60)
    assert len(replay_server.requests_to("/stac/v1/search")) == calls + 1
    assert time.time() - entry.stat().st_mtime < 60


def test_a_stale_climate_is_served_when_power_fails(replay_server, data_settings, caplog):
    replay_server.power_monthly_published_until = (2022, 6)  # July comes from daily values: provisional
    settings = data_settings.with_(retries=0, fresh_month_ttl_s=3600.0)
    first = fetch_climate(SAHARA, Month(2022, 6), Month(2022, 7), settings)
    (entry,) = DiskCache(settings.cache_dir, "climate").root.rglob("*.json")
    record = json.loads(entry.read_text())
    record["fetched_at"] -= 5 * 3600
    entry.write_text(json.dumps(record))
    replay_server.inject("/power/monthly", Fault("status", status=500))
    with caplog.at_level(logging.WARNING):
        again = fetch_climate(SAHARA, Month(2022, 6), Month(2022, 7), settings)
    np.testing.assert_array_equal(again["temp_c"].values, first["temp_c"].values)
    assert "fetched 5 h ago" in caplog.text


def test_a_climate_record_missing_a_field_is_fetched_again(replay_server, data_settings):
    first = fetch_climate(SAHARA, Month(2020, 1), Month(2020, 2), data_settings)
    (entry,) = DiskCache(data_settings.cache_dir, "climate").root.rglob("*.json")
    record = json.loads(entry.read_text())
    del record["values"]
    entry.write_text(json.dumps(record))
    calls = len(replay_server.requests_to("/power"))
    again = fetch_climate(SAHARA, Month(2020, 1), Month(2020, 2), data_settings)
    np.testing.assert_array_equal(again["temp_c"].values, first["temp_c"].values)
    assert len(replay_server.requests_to("/power")) == calls + 1
