"""fetch_scene against the replay server: search, paging, ranking over the footprint, windowed reads, cache."""

import json

import numpy as np
import pytest
import rasterio

from core.errors import BadRequestError, NoImageryError, OfflineCacheMissError, UpstreamError
from core.geo import Footprint, Month, Point
from core.io.http import HttpClient
from core.sources.cog import read_footprint
from core.sources.imagery import fetch_scene, rank_candidates, search_scenes
from core.sources.stac import PlanetaryComputerSigner, search_items
from tests.conftest import REAL
from tests.support.replay_fixtures import SAHARA_CLOUDY_COPY_ID, SAHARA_ITEM_ID
from tests.support.replay_server import FakeStacApi, Fault

SAHARA = Point(24.8, -11.4)
FEB_2020 = Month(2020, 2)
TCI = REAL / "S2A_29RKH_20200219_0_L2A_TCI_100m_cog.tif"


def test_scene_is_the_footprint_of_the_real_cog_on_its_own_grid(replay_server, data_settings):
    scene = fetch_scene(SAHARA, FEB_2020, data_settings)
    footprint = Footprint.around(SAHARA, epsg=32629)
    assert scene.image.shape == (512, 512, 3) and scene.image.dtype == np.uint8
    assert scene.crs == "EPSG:32629"
    assert tuple(scene.transform)[:6] == tuple(footprint.transform)[:6]
    assert scene.scene_id == SAHARA_ITEM_ID and scene.acquired.isoformat().startswith("2020-02-19T11:34:25")
    assert scene.cloud_source == "scl" and scene.cloud_fraction == 0.0 and scene.nodata_fraction == 0.0
    # 100 m source pixels: noted, and each one becomes a 10 x 10 block of the output
    assert scene.resampled and scene.source_pixel_size_m == 100.0 and "resampled" in scene.notes[0]
    with rasterio.open(TCI) as src:
        for out_row, out_col in ((5, 5), (300, 40), (511, 511)):
            x, y = footprint.transform @ (out_col + 0.5, out_row + 0.5)
            row, col = src.index(x, y)
            expected = src.read(window=((row, row + 1), (col, col + 1)))[:, 0, 0]
            assert list(scene.image[out_row, out_col]) == list(expected)


def test_only_part_of_the_cog_is_transferred(replay_server, data_settings):
    fetch_scene(SAHARA, FEB_2020, data_settings)
    assert 0 < replay_server.bytes_served("tci.tif") < TCI.stat().st_size / 3
    assert all(r.range_header for r in replay_server.requests_to("/files/tci.tif") if r.method == "GET")


def test_ranking_looks_at_cloud_over_the_footprint_not_the_tile(replay_server, data_settings):
    client = HttpClient(data_settings)
    candidates = search_scenes(SAHARA, FEB_2020, data_settings, client)
    by_id = {c.scene_id: c for c in candidates}
    # the copy reports less cloud for its whole tile (2 % against 4.05 %) ...
    assert by_id[SAHARA_CLOUDY_COPY_ID].scene_cloud_fraction < by_id[SAHARA_ITEM_ID].scene_cloud_fraction
    ranked = rank_candidates(SAHARA, candidates, data_settings)
    # ... but its SCL puts 160 of the footprint's 256 rows (give or take one: the SCL's 20 m grid
    # and the footprint's 10 m grid are offset) under cloud or shadow
    assert [r.candidate.scene_id for r in ranked] == [SAHARA_ITEM_ID, SAHARA_CLOUDY_COPY_ID]
    assert ranked[1].cloud_fraction == pytest.approx(160 / 256, abs=1.01 / 256)
    assert ranked[0].cloud_fraction == 0.0


def test_without_scl_the_tile_cloud_cover_ranks(replay_server, data_settings):
    replay_server.stac = FakeStacApi(replay_server.sahara_items(scl=None))
    scene = fetch_scene(SAHARA, FEB_2020, data_settings)
    assert scene.scene_id == SAHARA_CLOUDY_COPY_ID
    assert scene.cloud_source == "eo:cloud_cover" and scene.cloud_fraction == pytest.approx(0.02)


def test_a_native_10_m_cog_is_read_without_resampling(replay_server, data_settings, test_rasters):
    items = replay_server.sahara_items(scl=None)[:1]
    items[0]["assets"]["visual"]["href"] = replay_server.file_url("visual_10m.tif")
    replay_server.stac = FakeStacApi(items)
    scene = fetch_scene(SAHARA, FEB_2020, data_settings)
    assert not scene.resampled and scene.source_pixel_size_m == 10.0 and scene.notes == ()
    with rasterio.open(test_rasters.visual_10m) as src:
        window = src.window(*Footprint.around(SAHARA, epsg=32629).bounds)
        expected = src.read(window=window).transpose(1, 2, 0)
    assert np.array_equal(scene.image, expected)


def test_a_footprint_in_another_crs_is_warped(replay_server, data_settings):
    footprint = Footprint.around(SAHARA, epsg=32628)
    read = read_footprint(replay_server.file_url("tci.tif"), footprint, data_settings, indexes=[1, 2, 3])
    assert read.warped and read.crs == "EPSG:32628" and read.data.shape == (3, 512, 512)
    assert read.data.mean() > 150  # the bright desert, not an empty warp


def test_a_second_read_of_a_footprint_on_four_tiles_fetches_nothing(replay_server, data_settings, test_rasters):
    footprint = Footprint.around(Point(24.818, -11.382), epsg=32629)  # straddles four 512 px tiles
    href = replay_server.file_url("visual_10m.tif")
    first = read_footprint(href, footprint, data_settings, indexes=[1, 2, 3])
    replay_server.wait_idle()
    fetched = replay_server.bytes_served("visual_10m.tif")
    assert fetched > 4 * 200_000  # the four tiles came over HTTP
    first.data[:] = 0  # the caller's copy: changing it changes no later read
    again = read_footprint(href, footprint, data_settings, indexes=[1, 2, 3])
    replay_server.wait_idle()
    assert replay_server.bytes_served("visual_10m.tif") == fetched
    with rasterio.open(test_rasters.visual_10m) as src:
        expected = src.read([1, 2, 3], window=src.window(*footprint.bounds))
    assert np.array_equal(again.data, expected)
    other_bands = read_footprint(href, footprint, data_settings, indexes=[1])  # another read: fetched
    assert np.array_equal(other_bands.data, expected[:1])


def test_second_request_is_local_and_works_offline(replay_server, data_settings):
    first = fetch_scene(SAHARA, FEB_2020, data_settings)
    count = len(replay_server.requests)
    again = fetch_scene(SAHARA, FEB_2020, data_settings.with_(offline=True))
    assert len(replay_server.requests) == count
    assert np.array_equal(first.image, again.image) and again.to_metadata() == first.to_metadata()
    with pytest.raises(OfflineCacheMissError, match="Offline mode is on"):
        fetch_scene(SAHARA, Month(2020, 3), data_settings.with_(offline=True))


def test_empty_search_names_the_month(replay_server, data_settings):
    replay_server.inject("/stac/v1/search", Fault("empty"))
    with pytest.raises(NoImageryError, match=r"2020-02.*best cloud cover found"):
        fetch_scene(SAHARA, FEB_2020, data_settings)


def test_a_month_in_the_future_is_refused(data_settings):
    with pytest.raises(BadRequestError, match="in the future"):
        fetch_scene(SAHARA, Month(2199, 1), data_settings)


def test_a_truncated_cog_is_our_error(replay_server, data_settings):
    items = replay_server.sahara_items(scl=None)[:1]
    replay_server.register_file("truncated.tif", TCI)
    items[0]["assets"]["visual"]["href"] = replay_server.file_url("truncated.tif")
    replay_server.stac = FakeStacApi(items)
    replay_server.inject("/files/truncated.tif", Fault("truncate", size=40_000))
    with pytest.raises(UpstreamError, match="truncated"):
        fetch_scene(SAHARA, FEB_2020, data_settings)


def test_real_earth_search_pages_post_next_link_and_stop_on_empty_page(replay_server, data_settings):
    body = {"collections": ["sentinel-2-l2a", "landsat-c2-l2"], "datetime": "2023-10-08T00:00:00Z/2023-10-08T23:59:59Z"}
    items = search_items(
        HttpClient(data_settings),
        f"{replay_server.earth_search_url}/search",
        body,
        service="Earth Search",
        collection="sentinel-2-l2a",
    )
    assert [i["id"] for i in items] == ["S2A_13TDE_20231008_0_L2A"]  # the Landsat item is filtered out
    posts = replay_server.requests_to("/earth-search/v1/search")
    assert [r.method for r in posts] == ["POST", "POST"]
    assert posts[1].body["next"] == "2023-10-08T17:37:26.656958Z,LC08_L2SP_033032_20231008_02_T1,landsat-c2-l2"


def test_fake_api_paging_reaches_every_item_and_ends_on_an_empty_page(replay_server, data_settings):
    replay_server.stac.page_size = 1
    items = search_items(
        HttpClient(data_settings), f"{replay_server.stac_url}/search", {"collections": ["sentinel-2-l2a"]}, service="t"
    )
    assert len(items) == 2 and len(replay_server.requests_to("/stac/v1/search")) == 3


def test_planetary_computer_search_and_signing(replay_server, data_settings):
    settings = data_settings.with_(stac_provider="planetary-computer")
    client = HttpClient(settings)
    candidates = search_scenes(Point(58.0, 173.9), Month(2019, 1), settings, client)
    recorded = json.loads((REAL / "stac_planetary_computer_search_sentinel-2-l2a.json").read_text())
    assert len(candidates) == len(recorded["features"]) == 33
    assert all(
        c.scl_href and c.visual_href.startswith("https://sentinel2l2a01.blob.core.windows.net/") for c in candidates
    )
    signed = PlanetaryComputerSigner(settings, client).sign(candidates[0].visual_href, "sentinel-2-l2a")
    assert signed.startswith(candidates[0].visual_href + "?") and "sig=test-signature-sentinel-2-l2a-1" in signed
    # a second signer (another request, same cache) reuses the unexpired token
    again = PlanetaryComputerSigner(settings, HttpClient(settings)).sign(candidates[1].visual_href, "sentinel-2-l2a")
    assert "sig=test-signature-sentinel-2-l2a-1" in again and replay_server.sas_tokens_issued == 1


def test_an_expired_token_is_renewed(replay_server, data_settings):
    replay_server.sas_expiry_s = 60  # inside the renewal margin
    signer = PlanetaryComputerSigner(data_settings, HttpClient(data_settings))
    signer.sign("https://example.blob.core.windows.net/a.tif", "sentinel-2-l2a")
    signer.sign("https://example.blob.core.windows.net/b.tif", "sentinel-2-l2a")
    assert replay_server.sas_tokens_issued == 2


def test_antimeridian_footprint_searches_both_bbox_parts(replay_server, data_settings):
    with pytest.raises(NoImageryError, match="2020-02"):
        fetch_scene(Point(67.0, 179.99), FEB_2020, data_settings)  # Chukotka, on land
    boxes = [r.body["bbox"] for r in replay_server.requests_to("/stac/v1/search")]
    assert len(boxes) == 2
    assert boxes[0][2] == 180.0 and boxes[1][0] == -180.0


def test_gdal_cannot_reach_a_non_local_host(data_settings):
    footprint = Footprint.around(SAHARA)
    with pytest.raises(UpstreamError, match="Could not read"):
        read_footprint("https://sentinel-cogs.s3.us-west-2.amazonaws.com/x/TCI.tif", footprint, data_settings)


def test_a_signed_href_with_a_query_string_reads(replay_server, data_settings):
    href = replay_server.file_url("tci.tif") + "?st=2020-01-01&se=2030-01-01&sp=rl&sig=abc%3D"
    read = read_footprint(href, Footprint.around(SAHARA, epsg=32629), data_settings, indexes=[1, 2, 3])
    assert read.data.shape == (3, 512, 512)
    assert all(r.query.endswith("sig=abc%3D") for r in replay_server.requests_to("/files/tci.tif"))


def test_gdal_retries_a_503_on_a_tile(replay_server, data_settings):
    replay_server.inject("/files/tci.tif", Fault("status", status=503))
    scene = fetch_scene(SAHARA, FEB_2020, data_settings)
    assert scene.image.shape == (512, 512, 3)
    statuses = [r.status for r in replay_server.requests_to("/files/tci.tif")]
    assert statuses[0] == 503 and 206 in statuses


def test_a_footprint_mostly_off_the_image_is_not_usable(replay_server, data_settings):
    items = replay_server.sahara_items(scl=None)[:1]
    items[0]["assets"]["visual"]["href"] = replay_server.file_url("visual_10m.tif")
    replay_server.stac = FakeStacApi(items)
    # centred on the west edge of the 10 m raster: half the footprint is off it, plus its nodata strip
    with pytest.raises(NoImageryError, match=r"2020-02.*more than 50%.*best cloud cover found: 4%"):
        fetch_scene(Point(24.8, -11.476), FEB_2020, data_settings)


def test_a_429_on_the_search_post_is_retried(replay_server, data_settings):
    replay_server.inject("/stac/v1/search", Fault("status", status=429))
    scene = fetch_scene(SAHARA, FEB_2020, data_settings)
    assert scene.scene_id == SAHARA_ITEM_ID
    assert [r.status for r in replay_server.requests_to("/stac/v1/search")][:2] == [429, 200]


def test_a_scene_chosen_while_an_scl_failed_is_not_cached_as_final(replay_server, data_settings):
    # issue 26: after one failed SCL read the tile's eo:cloud_cover (0.0405) stood in, and was cached for good
    replay_server.inject("/files/scl_clear.tif", *[Fault("status", status=503)] * 20)
    degraded = fetch_scene(SAHARA, FEB_2020, data_settings)
    assert degraded.cloud_source == "eo:cloud_cover" and degraded.cloud_fraction == pytest.approx(0.0405, abs=1e-3)
    assert any("not cached" in note for note in degraded.notes)
    replay_server.faults.clear()
    again = fetch_scene(SAHARA, FEB_2020, data_settings)  # asked again, now with the footprint's own SCL
    assert again.cloud_source == "scl" and again.cloud_fraction == 0.0
    kept = fetch_scene(SAHARA, FEB_2020, data_settings.with_(offline=True))  # and this one is cached
    assert kept.to_metadata() == again.to_metadata() and np.array_equal(kept.image, again.image)


def test_fresh_and_cached_scenes_carry_the_same_fractions(replay_server, data_settings):
    # issue 26: cloud_coverage was 0.04051854 fresh and 0.040519 from the cache
    replay_server.stac = FakeStacApi(replay_server.sahara_items(scl=None))
    fresh = fetch_scene(SAHARA, FEB_2020, data_settings)
    cached = fetch_scene(SAHARA, FEB_2020, data_settings.with_(offline=True))
    assert fresh.cloud_source == "eo:cloud_cover" and fresh.cloud_fraction != 0.0
    assert (cached.cloud_fraction, cached.nodata_fraction) == (fresh.cloud_fraction, fresh.nodata_fraction)
    assert fresh.to_metadata() == cached.to_metadata()
