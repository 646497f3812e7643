"""The app's `/region` endpoint through gradio_client (replay server, tiny-random) makes the same GeoTIFF as
`python -m core region` with the same place, month, climate and seed: one path for both."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from tests.support.app_harness import running_app
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.43, "2020-02"
CLIMATE = dict(temp_c=28.0, precip_mm_day=1.5, solar_mj_m2_day=20.4)


def _pixels(path):
    import rasterio

    with rasterio.open(path) as src:
        return src.read(), src.crs.to_epsg(), src.transform


def test_the_app_region_equals_the_cli_region(test_rasters, tmp_path, monkeypatch, capsys):
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    from gradio_client import Client

    server = start_replay_server(REAL, test_rasters)
    try:
        settings = settings_for(server, tmp_path / "cache", checkpoints_dir=tmp_path / "checkpoints")
        with running_app(settings, "tiny-random", tmp_path / "outputs") as app:
            client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
            _image, geotiff, summary, _map = client.predict(
                lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, **CLIMATE,
                temp_delta_c=2.0, precip_pct=-30.0, mode="text", control_months_before=1, model_id="tiny-random",
                seed=3, steps=2, guidance=5.0, size_px=512, region_width_km=10.24, region_height_km=7.68,
                region_method="multidiffusion", api_name="/region",
            )  # fmt: skip
        assert "1024 x 768 px at 10 m, EPSG:32629, 6 tiles (multidiffusion)" in summary
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cli-cache"))
        code = main([
            "region", "--lat", str(LAT), "--lon", str(LON), "--month", MONTH, "--temp", "28.0", "--precip", "1.5",
            "--rad", "20.4", "--temp-delta", "2", "--precip-change", "-30", "--model", "tiny-random", "--seed", "3",
            "--steps", "2", "--guidance", "5.0", "--size", "512", "--width-km", "10.24", "--height-km", "7.68",
            "--method", "multidiffusion", "--no-real", "--out", str(tmp_path / "cli.tif"),
        ])  # fmt: skip
        captured = capsys.readouterr()
        assert code == 0, captured.err
        printed = captured.out[captured.out.index("{") :]  # after Gradio's "Closing server" line
        assert json.loads(printed)["label"].endswith("+2 °C, −30 % rain · 10.24 x 7.68 km region")
    finally:
        server.stop()
    app_pixels, app_epsg, app_transform = _pixels(geotiff)
    cli_pixels, cli_epsg, cli_transform = _pixels(tmp_path / "cli.tif")
    assert (app_epsg, app_transform) == (cli_epsg, cli_transform) and np.array_equal(app_pixels, cli_pixels)
