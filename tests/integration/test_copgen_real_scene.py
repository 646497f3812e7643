"""COP-GEN img2img from the real scene ("this place, other season") against the replay server.

The recorded Sahara STAC item is real; its band assets are pointed at test rasters written by
tests/data/make_test_cogs.py (`make_bands_10m`: uint16 digital numbers on the TCI's grid), because
the fixtures hold no real band COGs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from core.errors import BadRequestError, NoImageryError
from core.generation.request import GenerationRequest
from core.geo import Footprint, Month, Point
from core.models.backends import load_backend
from core.models.spec import ModelSpec
from core.sources.imagery import BandAsset, fetch_scene_bands
from tests.conftest import REAL, require_shared
from tests.support.replay_fixtures import SAHARA_ITEM_ID

SAHARA = Point(24.8, -11.4)
FEB_2020 = Month(2020, 2)
ITEM = REAL / "stac_item_sentinel-2-l2a_S2A_29RKH_20200219_0_L2A.json"
BANDS = ("B04", "B03", "B02", "B08")
# strength 0 redraws nothing: the bands come back as read, up to float32 rounding
STRENGTH_0_TOLERANCE = 1e-6


def _item(server) -> dict:
    return next(item for item in server.stac.items if item["id"] == SAHARA_ITEM_ID)


def _direct_dn(path, footprint: Footprint) -> np.ndarray:
    """The test raster's digital numbers over the footprint, read without our reader (same 10 m grid)."""
    from rasterio.windows import from_bounds

    with rasterio.open(path) as src:
        return src.read(1, window=from_bounds(*footprint.bounds, transform=src.transform).round_offsets())


def test_the_real_items_band_assets_carry_their_scale_and_the_baseline_offset_applies_without_one():
    item = json.loads(require_shared(ITEM).read_text())
    nir = item["assets"]["nir"]
    from_item = BandAsset.from_stac_asset("B08", nir, item["properties"]["s2:processing_baseline"])
    assert (from_item.scale, from_item.offset, from_item.scale_source) == (0.0001, 0.0, "raster:bands")
    bare = {"href": nir["href"]}  # as the Planetary Computer lists it: no raster:bands scale
    after_2022 = BandAsset.from_stac_asset("B08", bare, "04.00")
    before = BandAsset.from_stac_asset("B08", bare, "02.14")
    dn = np.array([0, 1000, 3500], np.uint16)
    np.testing.assert_allclose(after_2022.reflectance(dn), [0.0, 0.0, 0.25], atol=1e-7)  # (DN - 1000) / 10000
    np.testing.assert_allclose(before.reflectance(dn), [0.0, 0.1, 0.35], atol=1e-7)  # nodata 0 stays 0


def test_band_reader_returns_four_scaled_bands_on_the_footprint_grid(replay_server, data_settings, test_rasters):
    bands = fetch_scene_bands(SAHARA, FEB_2020, data_settings)
    footprint = Footprint.around(SAHARA, epsg=32629)
    assert tuple(bands.arrays) == BANDS and bands.scene_id == SAHARA_ITEM_ID
    assert bands.acquired.date().isoformat() == "2020-02-19" and bands.crs == "EPSG:32629"
    assert tuple(bands.transform)[:6] == tuple(footprint.transform)[:6] and bands.m_per_px == 10.0
    for band in BANDS:
        array = bands.arrays[band]
        assert array.shape == (512, 512) and array.dtype == np.float32
        np.testing.assert_allclose(array, _direct_dn(test_rasters.bands_10m[band], footprint) * 1e-4, atol=1e-6)
    assert bands.to_metadata()["scaling"]["B08"] == {"scale": 0.0001, "offset": 0.0, "from": "raster:bands"}
    # only the footprint's window of each band COG is transferred
    assert 0 < replay_server.bytes_served("b08_10m.tif") < test_rasters.bands_10m["B08"].stat().st_size


def test_band_reader_applies_the_offset_of_a_processing_baseline_04_scene(replay_server, data_settings, tmp_path):
    plain = fetch_scene_bands(SAHARA, FEB_2020, data_settings)
    item = _item(replay_server)
    item["properties"]["s2:processing_baseline"] = "04.00"
    for key in ("red", "green", "blue", "nir"):
        item["assets"][key].pop("raster:bands")
    # a fresh cache: the search answer changed
    shifted = fetch_scene_bands(SAHARA, FEB_2020, data_settings.with_(cache_dir=tmp_path / "after"))
    assert shifted.scaling["B04"] == (0.0001, -0.1, "processing baseline 04.00")
    for band in BANDS:
        np.testing.assert_allclose(shifted.arrays[band], plain.arrays[band] - 0.1, atol=1e-6)


def test_a_scene_without_b08_is_refused_in_one_line(replay_server, data_settings):
    _item(replay_server)["assets"].pop("nir")
    with pytest.raises(NoImageryError, match=f"{SAHARA_ITEM_ID} of 2020-02-19 has no B08 asset") as caught:
        fetch_scene_bands(SAHARA, FEB_2020, data_settings)
    assert "\n" not in str(caught.value.problem)


@pytest.fixture(scope="module")
def tiny_copgen():
    from core.config import Settings

    return load_backend("tiny-copgen", Settings())


def _season_request(strength: float, **changes) -> GenerationRequest:
    fields = dict(point=SAHARA, month="2020-08", control_month="2020-02", land_cover="Barren or Sparsely Vegetated",
                  mode="img2img", strength=strength, size_px=64, num_inference_steps=4, seed=3)  # fmt: skip
    return GenerationRequest(**{**fields, **changes})


def test_copgen_img2img_at_strength_0_returns_the_real_bands_and_redraws_them_above(
    replay_server, data_settings, tiny_copgen, tmp_path
):
    from core.services import export_image, generate

    real = fetch_scene_bands(SAHARA, FEB_2020, data_settings).arrays
    tile = slice(240, 272)  # the central 32 px (the tiny COP-GEN's tile) of the 512 px footprint
    kept = generate(_season_request(0.0, model=ModelSpec("tiny-copgen")), data_settings, engine=tiny_copgen)
    for band in BANDS:
        np.testing.assert_allclose(kept.result.bands.arrays[band], real[band][tile, tile], atol=STRENGTH_0_TOLERANCE)
    redrawn = generate(_season_request(0.75, model=ModelSpec("tiny-copgen")), data_settings, engine=tiny_copgen)
    difference = np.abs(redrawn.result.bands.arrays["B08"] - real["B08"][tile, tile]).mean()
    assert difference > 0.01
    source = redrawn.result.model_info["conditioning"]["source_scene"]
    assert source["scene_id"] == SAHARA_ITEM_ID and source["acquired"].startswith("2020-02-19")
    assert redrawn.result.model_info["conditioning"]["date"] == "2020-08-15"
    assert any(f"real scene {SAHARA_ITEM_ID} of 2020-02-19" in w and "for 2020-08-15" in w for w in redrawn.warnings)
    files = export_image(redrawn, tmp_path / "season.png")
    with rasterio.open(files.geotiff) as src:
        assert src.descriptions == BANDS and src.tags()["source_scene"] == SAHARA_ITEM_ID
    assert files.ndvi is not None


def test_copgen_img2img_refuses_an_uploaded_rgb_start_image(replay_server, data_settings, tiny_copgen):
    from core.services import generate

    rgb = np.zeros((64, 64, 3), np.uint8)
    request = _season_request(0.5, model=ModelSpec("tiny-copgen"), control_image=rgb, control_month=None)
    with pytest.raises(BadRequestError, match="starts from the real scene's B04/B03/B02/B08 bands"):
        generate(request, data_settings, engine=tiny_copgen)


def test_text_only_peer_generators_still_refuse_img2img(replay_server, data_settings):
    from core.services import generate

    backend = load_backend("tiny-text2earth", data_settings)
    with pytest.raises(BadRequestError, match="cannot do mode 'img2img'"):
        generate(_season_request(0.5, model=ModelSpec("tiny-text2earth")), data_settings, engine=backend)


def test_source_bands_belong_to_mode_img2img(replay_server, data_settings):
    bands = fetch_scene_bands(SAHARA, FEB_2020, data_settings)
    with pytest.raises(BadRequestError, match="Source bands were given in mode text"):
        _season_request(0.5, mode="text", control_month=None, source_bands=bands)
