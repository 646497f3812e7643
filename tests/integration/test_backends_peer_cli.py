"""`python -m core generate` with the tiny COP-GEN / ZoomLDM / AeroGen at the Sahara replay point."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main

SAHARA = ["--lat", "24.8", "--lon", "-11.4", "--month", "2020-02"]


def run_cli(capsys, *args) -> tuple[int, dict, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else {}), captured.err


@pytest.mark.slow
def test_tiny_copgen_writes_the_rgb_preview_a_four_band_geotiff_and_ndvi(replay_env, capsys):
    import rasterio

    out = replay_env / "copgen.png"
    code, summary, err = run_cli(
        capsys, "generate", "--model", "tiny-copgen", *SAHARA, "--steps", "2", "--size", "64", "--out", out,
        "--geotiff", replay_env / "copgen.tif",
    )  # fmt: skip
    assert code == 0, err
    assert summary["model"] == "tiny-copgen" and summary["prompts"]["spatial"] == ""
    assert summary["written"]["geotiff"] == str(replay_env / "copgen.tif")
    assert summary["written"]["ndvi"] == str(replay_env / "copgen.ndvi.tif")
    with rasterio.open(replay_env / "copgen.tif") as src:
        assert src.count == 4 and src.descriptions == ("B04", "B03", "B02", "B08")
        assert src.res == (10.0, 10.0) and src.dtypes == ("float32",) * 4
        bands = src.read()
        assert np.nanmin(bands) >= 0.0 and np.nanmax(bands) <= 1.0  # reflectance
    with rasterio.open(replay_env / "copgen.ndvi.tif") as src:
        ndvi = src.read(1)
        assert src.descriptions == ("NDVI",) and np.nanmin(ndvi) >= -1.0 and np.nanmax(ndvi) <= 1.0


@pytest.mark.slow
def test_tiny_zoomldm_draws_from_the_replayed_scene_of_the_month(replay_env, capsys):
    from PIL import Image

    out = replay_env / "zoom.png"
    code, summary, err = run_cli(
        capsys, "generate", "--model", "tiny-zoomldm", *SAHARA, "--steps", "2", "--guidance", "2", "--size", "64",
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert summary["model"] == "tiny-zoomldm" and "geotiff" not in summary["written"]
    assert any("ZoomLDM (NAIP)" in w for w in summary["warnings"])
    assert np.asarray(Image.open(out)).shape == (32, 32, 3)


@pytest.mark.slow
def test_tiny_aerogen_reads_a_json_box_layout(replay_env, capsys):
    layout = replay_env / "boxes.json"
    layout.write_text(json.dumps([{"label": "airplane", "box": [0.1, 0.1, 0.5, 0.4]}]))
    common = ["generate", "--model", "tiny-aerogen", *SAHARA, "--steps", "2", "--size", "64"]
    code, summary, err = run_cli(capsys, *common, "--layout-json", layout, "--out", replay_env / "aero.png")
    assert code == 0, err
    assert summary["model"] == "tiny-aerogen" and summary["prompts"]["spatial"].startswith("a satellite image of")
    recipe = json.loads((replay_env / "aero.recipe.json").read_text())
    assert recipe["request"]["boxes"] == [{"label": "airplane", "corners": [0.1, 0.1, 0.5, 0.1, 0.5, 0.4, 0.1, 0.4]}]
    layout.write_text(json.dumps([{"label": "castle", "box": [0.1, 0.1, 0.5, 0.4]}]))
    code, _, err = run_cli(capsys, *common, "--layout-json", layout, "--out", replay_env / "bad.png")
    assert code == 2 and "does not know the class(es) castle" in err and err.count("\n") == 1


@pytest.mark.slow
def test_compare_models_runs_the_new_generators_and_refuses_the_missing_ones(tmp_path, monkeypatch, capsys):
    from PIL import Image

    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(tmp_path / "real.png")
    code = main([
        "--offline", "compare-models", *SAHARA, "--land-cover", "Croplands", "--country", "Morocco", "--temp", "20",
        "--precip", "1", "--rad", "20", "--steps", "2", "--models", "tiny-copgen,tiny-aerogen,copgen,zoomldm,aerogen",
        "--real-image", str(tmp_path / "real.png"), "--out", str(tmp_path / "sheet.png"),
        "--json", str(tmp_path / "sheet.json"),
    ])  # fmt: skip
    capsys.readouterr()
    assert code == 0
    report = json.loads((tmp_path / "sheet.json").read_text())
    assert [item["backend"] for item in report["images"]] == ["tiny-copgen", "tiny-aerogen"]
    assert set(report["unavailable"]) == {"copgen", "zoomldm", "aerogen"}
    assert "python -m core download --model copgen" in report["unavailable"]["copgen"]
    assert "no licence" in report["unavailable"]["aerogen"]
    copgen = report["images"][0]
    assert copgen["conditioning"]["bands"] == ["B04", "B03", "B02", "B08"]
    assert "place names (no text prompt)" in copgen["ignored"]
