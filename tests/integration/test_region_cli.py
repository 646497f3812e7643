"""`python -m core region` at the Sahara replay point (lat 24.8, lon -11.43, 2020-02) with tiny-random."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main

SAHARA = ["--lat", "24.8", "--lon", "-11.43", "--month", "2020-02"]
# 64 px tiles of the 5.12 km footprint = 80 m pixels: a 10.24 x 7.68 km region is 128 x 96 px, 6 tiles
FAST = ["--model", "tiny-random", "--steps", "2", "--size", "64", "--width-km", "10.24", "--height-km", "7.68"]


def run_region(capsys, *args) -> tuple[int, dict, str]:
    code = main(["region", *SAHARA, *FAST, *(str(a) for a in args)])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else {}), captured.err


def read_tif(path):
    import rasterio

    with rasterio.open(path) as src:
        return src.read(), src.crs.to_epsg(), src.transform, src.tags()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["metaearth", "multidiffusion", "mixture"])
def test_region_writes_a_utm_geotiff_of_the_right_size_identical_for_the_same_seed(replay_env, capsys, method):
    from core.export.image_files import read_png_metadata

    code, summary, stderr = run_region(capsys, "--method", method, "--out", replay_env / "a.tif")
    assert code == 0, stderr
    pixels, epsg, transform, tags = read_tif(replay_env / "a.tif")
    assert epsg == 32629 and pixels.shape == (3, 96, 128)
    assert transform.a == 80.0 and transform.e == -80.0
    assert tags["ai_generated"] == "true" and json.loads(tags["region"])["method"] == method
    assert summary["size_px"] == [128, 96] and len(summary["tiles"]) == 6
    # every tile has its own point (lat/lon in its prompt metadata)
    assert len({(t["lat"], t["lon"]) for t in summary["tiles"]}) == 6
    assert read_png_metadata(replay_env / "a.png")["label"].startswith("AI-generated · noise (tiny test model)")
    assert "10.24 x 7.68 km region" in summary["label"]
    # the real mosaic of the month (replayed Sentinel-2 scene) was fetched for the comparison
    assert (replay_env / "a-real.png").exists() and summary["real"]["scenes"]
    recipe = json.loads((replay_env / "a.recipe.json").read_text())
    assert recipe["region"]["method"] == method and recipe["request"]["seed"] == 0
    assert [(t["lat"], t["lon"], t["land_cover"]) for t in recipe["region"]["tiles"]] == [
        (t["lat"], t["lon"], t["land_cover"]) for t in summary["tiles"]
    ]
    code, _, stderr = run_region(capsys, "--method", method, "--out", replay_env / "b.tif", "--no-real")
    assert code == 0, stderr
    assert np.array_equal(read_tif(replay_env / "b.tif")[0], pixels)
    code, _, stderr = run_region(capsys, "--method", method, "--seed", "1", "--out", replay_env / "c.tif", "--no-real")
    assert code == 0, stderr
    assert not np.array_equal(read_tif(replay_env / "c.tif")[0], pixels)


@pytest.mark.slow
def test_region_controlnet_cuts_control_images_from_the_real_mosaic(replay_env, capsys):
    code, summary, stderr = run_region(
        capsys,
        "--method",
        "multidiffusion",
        "--control-month",
        "2020-02",
        "--temp-delta",
        "2",
        "--no-real",
        "--out",
        replay_env / "cn.tif",
    )
    assert code == 0, stderr
    recipe = json.loads((replay_env / "cn.recipe.json").read_text())
    assert recipe["request"]["mode"] == "controlnet" and recipe["request"]["control_month"] == "2020-02"
    assert recipe["request"]["scenario"]["temp_delta_c"] == 2.0
    assert read_tif(replay_env / "cn.tif")[0].shape == (3, 96, 128) and summary["method"] == "multidiffusion"


def test_region_refusals_before_any_work(replay_env, capsys):
    out = str(replay_env / "x.tif")
    code = main(["region", *SAHARA, *FAST[:-4], "--width-km", "30", "--height-km", "30", "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and "width_km = 30 is outside" in err
    code = main(["region", "--lat", "24.8", "--lon", "-12.0", "--month", "2020-02", *FAST, "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and "leaves UTM zone EPSG:32629" in err
    code = main(["region", *SAHARA, *FAST, "--mode", "img2img", "--method", "multidiffusion", "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and "Use the method metaearth for img2img" in err
    assert not (replay_env / "x.tif").exists()


@pytest.mark.slow
def test_a_region_recipe_regenerates_the_same_region_and_refuses_what_it_fixes(replay_env, capsys):
    code, summary, stderr = run_region(capsys, "--seed", "3", "--out", replay_env / "a.tif", "--no-real")
    assert code == 0, stderr
    recipe = replay_env / "a.recipe.json"
    code = main(["region", "--recipe", str(recipe), "--out", str(replay_env / "again.tif"), "--no-real"])
    again = capsys.readouterr()
    assert code == 0, again.err
    assert np.array_equal(read_tif(replay_env / "again.tif")[0], read_tif(replay_env / "a.tif")[0])
    replayed = json.loads(again.out)
    assert replayed["size_px"] == summary["size_px"] and replayed["method"] == summary["method"]
    assert replayed["tiles"] == summary["tiles"]
    # what the recipe fixes is refused, not silently ignored; a single image's recipe is not a region's
    code = main(["region", "--recipe", str(recipe), "--lat", "10", "--out", str(replay_env / "x.tif")])
    assert code == 2 and "--lat cannot be used with --recipe" in capsys.readouterr().err
    code = main(["region", "--recipe", str(recipe), "--steps", "3", "--out", str(replay_env / "x.tif")])
    assert code == 2 and "--steps 3 cannot be used with --recipe" in capsys.readouterr().err
    single = replay_env / "single.recipe.json"
    single.write_text(json.dumps({k: v for k, v in json.loads(recipe.read_text()).items() if k != "region"}))
    code = main(["region", "--recipe", str(single), "--out", str(replay_env / "x.tif")])
    assert code == 2 and "a single image's, not a region's" in capsys.readouterr().err
    code = main(["region", "--lat", "24.8", "--out", str(replay_env / "x.tif")])
    assert code == 2 and "Missing --lon, --month, --width-km, --height-km" in capsys.readouterr().err
    assert not (replay_env / "x.tif").exists()
