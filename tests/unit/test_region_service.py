"""The region composition and service without the network: sizes, grid, refusals; SD3 and a peer generator;
the files written (GeoTIFF on the centre's UTM grid, labelled PNG, recipe)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.config import Settings
from core.errors import BadRequestError
from core.generation.compositions import Region
from core.geo import Point
from tests.support.tiny_generation import tiny_generation_request

SAHARA = Point(24.8, -11.43)


def test_region_canvas_grid_and_tiles():
    region = Region(tiny_generation_request(point=SAHARA, size_px=512), 10.24, 7.68)
    assert (region.width_px, region.height_px, region.pixel_m, region.crs) == (1024, 768, 10.0, "EPSG:32629")
    assert len(region.windows()) == 3 * 2  # 512 px tiles every 256 px
    min_x, max_y = region.origin_m
    assert min_x % 10 == 0 and max_y % 10 == 0  # on Sentinel-2's 10 m grid
    points = [region.tile_point(w) for w in region.windows()]
    min_lon, min_lat, max_lon, max_lat = region.bbox
    assert len(set(points)) == 6 and all(min_lon < p.lon < max_lon and min_lat < p.lat < max_lat for p in points)
    # the tile at the centre column and the canvas centre agree to within a pixel
    assert abs(points[1].lon - SAHARA.lon) < 1e-3
    assert [r.point for r in region.tile_requests()] == points


def test_region_refusals_name_the_problem():
    with pytest.raises(BadRequestError, match="height_km = 4 is outside 5.12..20 km"):
        Region(tiny_generation_request(point=SAHARA, size_px=512), 10.0, 4.0)
    with pytest.raises(BadRequestError, match="leaves UTM zone EPSG:32629"):
        Region(tiny_generation_request(point=Point(24.8, -12.0), size_px=512), 10.24, 7.68)
    with pytest.raises(BadRequestError, match="Unknown region method"):
        Region(tiny_generation_request(point=SAHARA), 10.24, 7.68, method="panorama")
    with pytest.raises(BadRequestError, match="MultiDiffusion regions run in modes text and controlnet, not 'img2img'"):
        Region(tiny_generation_request(point=SAHARA, mode="img2img"), 10.24, 7.68, method="multidiffusion")
    with pytest.raises(BadRequestError, match="width_km = 25 is outside"):
        Region(tiny_generation_request(point=SAHARA), 25, 7.68)


def test_too_large_an_area_says_how_long_it_would_take():
    with pytest.raises(BadRequestError, match=r"over the 200 km² maximum") as caught:
        Region(tiny_generation_request(point=SAHARA, size_px=512, num_inference_steps=50), 15.36, 15.36)
    # 1536 px a side: 5 x 5 windows of 512 px every 256 px
    assert "25 tiles x 50 steps = 1250 model calls, about 5 min on a GPU" in caught.value.problem


@pytest.mark.slow
def test_sd3_region_service_writes_the_geotiff_png_and_recipe(tiny_engine, tmp_path):
    import rasterio

    from core.export.image_files import read_png_metadata
    from core.models.spec import ModelSpec
    from core.services import Region as ServiceRegion
    from core.services import export_region, make_region

    base = tiny_generation_request(point=SAHARA, model=ModelSpec("tiny-random"), country="Morocco", state=None)
    region = ServiceRegion(base, 10.24, 7.68, method="multidiffusion", per_tile=False)
    result = make_region(region, Settings.from_env(), engine=tiny_engine, with_real=False)
    files = export_region(result, tmp_path / "r.tif")
    with rasterio.open(files.geotiff) as src:
        assert src.crs.to_epsg() == 32629 and (src.height, src.width) == (96, 128)
        assert np.array_equal(np.moveaxis(src.read(), 0, -1), result.image)
        assert src.transform == region.transform
    meta = read_png_metadata(files.png)
    assert meta["label"] == result.label and "10.24 x 7.68 km region" in meta["label"]
    recipe = json.loads(files.recipe.read_text())
    assert recipe["region"]["tile_count"] == len(recipe["region"]["tiles"]) == 6
    assert recipe["request"]["lat"] == SAHARA.lat
    assert {t["land_cover"] for t in recipe["region"]["tiles"]} == {"Croplands"}  # per_tile=False: the base's
    assert result.real is None and files.real_png is None
    assert set(result.seams()) == {"border_mad", "inside_mad", "ratio"}


@pytest.mark.slow
def test_a_peer_generator_runs_regions_tile_by_tile_and_refuses_multidiffusion():
    from core.generation.region_runs import generate_region
    from core.models.spec import ModelSpec
    from core.services import load_engine

    settings = Settings.from_env()
    peer = load_engine(ModelSpec("tiny-diffusionsat"), settings)
    base = tiny_generation_request(point=SAHARA, model=ModelSpec("tiny-diffusionsat"), country="Morocco")
    run = generate_region(Region(base, 10.24, 7.68, per_tile=False), peer, settings)
    assert run.image.shape == (96, 128, 3) and run.model_id == "tiny-diffusionsat"
    assert len({t.point for t in run.tiles}) == 6  # each tile's own lat/lon in its metadata
    with pytest.raises(BadRequestError, match="tile by tile"):
        generate_region(Region(base, 10.24, 7.68, method="multidiffusion", per_tile=False), peer, settings)
