"""The side-by-side sheet: tiny variants of every family through `python -m core compare-models`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.generation.request import GenerationRequest
from core.geo import Point
from core.services.compare_models import CELL_PX, ComparedImage, ModelComparison, render_sheet
from tests.support.tile_server import TileServer


@pytest.fixture
def cli_env(monkeypatch, settings, tmp_path):
    """The CLI reads Settings from the environment: a private cache and checkpoints, offline Hub."""
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(settings.checkpoints_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    real = np.zeros((512, 512, 3), np.uint8)
    real[128:384, 128:384] = (60, 140, 60)
    Image.fromarray(real).save(tmp_path / "real.png")
    return tmp_path


@pytest.mark.slow
def test_compare_models_cli_with_every_tiny_family(cli_env, monkeypatch, capsys):
    out, meta = cli_env / "sheet.png", cli_env / "sheet.json"
    with TileServer() as server:
        monkeypatch.setenv("ECOMAPPER_OSM_TILE_URL", server.url_template)
        code = main(
            [
                "compare-models", "--lat", "55.9533", "--lon", "-3.1883", "--month", "2021-06",
                "--land-cover", "Croplands", "--country", "United Kingdom", "--state", "Scotland",
                "--temp", "14", "--precip", "2", "--rad", "18", "--temp-delta", "2", "--steps", "2",
                "--models", "tiny-random,tiny-diffusionsat,tiny-geosynth-canny,tiny-map-sat,tiny-text2earth,"
                "diffusionsat-256",
                "--real-image", str(cli_env / "real.png"), "--out", str(out), "--json", str(meta),
            ]
        )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads(meta.read_text())
    ran = [item["backend"] for item in report["images"]]
    assert ran == ["tiny-random", "tiny-diffusionsat", "tiny-geosynth-canny", "tiny-map-sat", "tiny-text2earth"]
    assert set(report["unavailable"]) == {"diffusionsat-256"} and "Zenodo" in report["unavailable"]["diffusionsat-256"]
    for item in report["images"]:
        assert 0.0 <= item["metrics"]["ssim"] <= 1.0 and item["metrics"]["psnr"] > 0  # the shared MetricSuite
    assert report["images"][3]["conditioning"]["layout"]["zoom"] == 17
    # the scenario reaches the climate-reading SD3 prompt; the families without climate say they ignore it
    assert report["climate"]["temp_c"] == 16.0 and "2" in report["scenario"]
    assert "was 16 C" in report["images"][0]["conditioning"]["prompts"]["climate"]
    assert {"climate", "scenario"} <= set(report["images"][1]["ignored"])
    assert "diffusionsat-256" in printed and f"sheet: {out}" in printed
    sheet = np.asarray(Image.open(out))
    assert sheet.shape[1] == 6 * (CELL_PX + 8) + 8  # real + five generated columns
    assert server.requests  # map-sat fetched its OSM layout


def test_unknown_model_is_one_line_error(cli_env, capsys):
    code = main(
        ["compare-models", "--lat", "1", "--lon", "1", "--month", "2021-06", "--land-cover", "Croplands",
         "--country", "Gabon", "--models", "dall-e", "--no-real", "--out", str(cli_env / "x.png")]
    )  # fmt: skip
    assert code == 2
    assert "Unknown generator 'dall-e'" in capsys.readouterr().err


def test_sheet_places_the_real_image_first_and_lists_missing_backends():
    request = GenerationRequest(point=Point(1.0, 2.0), month="2020-01", land_cover="Savannas")
    real = np.full((64, 64, 3), 200, np.uint8)
    fake = np.zeros((32, 32, 3), np.uint8)
    comparison = ModelComparison(
        request=request,
        real_image=real,
        real_note="given",
        images=[ComparedImage("tiny-x", fake, {"ssim": 0.1, "psnr": 5.0}, "p", ("climate",), (), 0.5)],
        unavailable=[("map-sat", "download it")],
        failed=[],
    )
    sheet = render_sheet(comparison, cell_px=64)
    top = 6 + 12 * 2
    assert sheet.shape[1] == 2 * (64 + 8) + 8
    assert (sheet[top + 10, 8 + 10] == 200).all()  # the real image in column 1
    assert (sheet[top + 10, 8 + 72 + 10] == 0).all()  # the generated one, resized, in column 2


def test_compare_models_exits_1_when_a_present_generator_failed_and_still_writes_the_sheet(cli_env, monkeypatch):
    out, meta = cli_env / "partial.png", cli_env / "partial.json"
    monkeypatch.setenv("ECOMAPPER_OSM_TILE_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")  # a closed port: no tiles
    code = main(
        [
            "compare-models", "--lat", "55.9533", "--lon", "-3.1883", "--month", "2021-06",
            "--land-cover", "Croplands", "--country", "United Kingdom", "--state", "Scotland",
            "--temp", "14", "--precip", "2", "--rad", "18", "--steps", "1",
            "--models", "tiny-diffusionsat,tiny-map-sat", "--no-real", "--out", str(out), "--json", str(meta),
        ]
    )  # fmt: skip
    report = json.loads(meta.read_text())
    assert [item["backend"] for item in report["images"]] == ["tiny-diffusionsat"]
    assert set(report["failed"]) == {"tiny-map-sat"}
    assert code == 1 and out.is_file()


@pytest.mark.slow
def test_zoomldm_rows_say_their_scores_are_against_their_own_reference(cli_env, capsys):
    """ZoomLDM reads the real image it is then scored against: its row says so (issue 22)."""
    meta = cli_env / "zoom.json"
    code = main(
        ["compare-models", "--lat", "55.9533", "--lon", "-3.1883", "--month", "2021-06", "--land-cover", "Croplands",
         "--country", "United Kingdom", "--steps", "2", "--models", "tiny-zoomldm,tiny-copgen,tiny-aerogen",
         "--real-image", str(cli_env / "real.png"), "--out", str(cli_env / "zoom.png"), "--json", str(meta)]
    )  # fmt: skip
    capsys.readouterr()
    assert code == 0
    rows = {item["backend"]: item for item in json.loads(meta.read_text())["images"]}
    assert set(rows) == {"tiny-zoomldm", "tiny-copgen", "tiny-aerogen"}
    assert any("not comparable" in w for w in rows["tiny-zoomldm"]["warnings"])
    assert not any("not comparable" in w for w in rows["tiny-copgen"]["warnings"] + rows["tiny-aerogen"]["warnings"])
    assert 0.0 <= rows["tiny-zoomldm"]["metrics"]["ssim"] <= 1.0
