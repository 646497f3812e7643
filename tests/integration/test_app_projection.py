"""The app's projection picker through gradio_client: SSP2-4.5 2050 at the Sahara point (CMIP6 test archive
over local HTTP, NASA POWER replayed) gives the same scenario and climate as `python -m core projection`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core import services
from core.geo import Month
from tests.conftest import REPO
from tests.support.app_harness import running_app
from tests.support.cmip6_server import Cmip6Server
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.4, "2020-02"
NORMALS = "2010-2014"  # the years the NASA POWER recording covers


@pytest.fixture(scope="module")
def stack(test_rasters, cmip6_archive, tmp_path_factory):
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    from gradio_client import Client

    server = start_replay_server(REAL, test_rasters)
    root = tmp_path_factory.mktemp("app-projection")
    try:
        with Cmip6Server(cmip6_archive.root) as cmip6:
            settings = settings_for(
                server, root / "cache", checkpoints_dir=root / "checkpoints",
                cmip6_catalog_url=f"{cmip6.bucket_url}/pangeo-cmip6.csv", cmip6_store_url=cmip6.bucket_url,
            )  # fmt: skip
            with running_app(settings, "tiny-random", root / "outputs") as app:
                client = Client(app.url, verbose=False, download_files=str(root / "downloads"))
                yield server, cmip6, client, root
    finally:
        server.stop()


def _cli_projection(server, cmip6, root, *args) -> subprocess.CompletedProcess:
    env = {
        **os.environ, **server.env(),
        "ECOMAPPER_CMIP6_CATALOG_URL": f"{cmip6.bucket_url}/pangeo-cmip6.csv",
        "ECOMAPPER_CMIP6_STORE_URL": cmip6.bucket_url, "ECOMAPPER_CACHE_DIR": str(root / "cli-cache"),
        "ECOMAPPER_RETRIES": "1", "ECOMAPPER_BACKOFF_S": "0",
    }  # fmt: skip
    command = [sys.executable, "-m", "core", "projection", "--lat", str(LAT), "--lon", str(LON), "--ssp", "ssp245",
               "--year", "2050", "--observed-years", NORMALS, *args]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_picking_ssp245_2050_generates_with_the_cli_projection(stack):
    server, cmip6, client, root = stack
    cli = json.loads(_cli_projection(server, cmip6, root, "--format", "json").stdout)
    table = _cli_projection(server, cmip6, root).stdout
    assert table.startswith("CMIP6 SSP2-4.5 (ssp245), 2050")
    february = cli["months"][1]
    observed, median = february["observed"], february["median"]

    # The picker's chart and summary name the same models and period as the CLI.
    _, summary, scenario_line = client.predict(
        lat=LAT, lon=LON, ssp="ssp245", horizon=2050, normals_years=NORMALS, month=MONTH, api_name="/projection"
    )
    assert summary.startswith("SSP2-4.5 2050 (2041-2060)")
    assert all(model["source_id"] in summary for model in cli["models"])
    assert "left out: ECO-NORSDS" in summary
    assert scenario_line.startswith("Scenario: **SSP2-4.5 2050** (CMIP6 median, month 02): +")

    # Generate from February's observed normal: the final climate is the CLI's ensemble median for February.
    outputs = client.predict(
        lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0,
        temp_c=observed["temp_c"], precip_mm_day=observed["precip_mm_day"],
        solar_mj_m2_day=observed["solar_mj_m2_day"], temp_delta_c=0.0, precip_pct=0.0, mode="text",
        control_months_before=1, model_id="tiny-random", seed=7, steps=2, guidance=5.0, size_px=512,
        ssp="ssp245", horizon=2050, normals_years=NORMALS, api_name="/generate",
    )  # fmt: skip
    recipe = services.recipe_request(outputs[7])
    assert recipe.scenario.label == "SSP2-4.5 2050"
    assert recipe.month == Month(2020, 2)
    # (the recipe keeps the climate at 0.01 precision)
    assert recipe.climate.temp_c == pytest.approx(median["temp_c"], abs=0.006)
    assert recipe.climate.precip_mm_day == pytest.approx(median["precip_mm_day"], abs=0.006)
    assert recipe.climate.solar_mj_m2_day == pytest.approx(median["solar_mj_m2_day"], abs=0.006)
    assert median["temp_c"] != pytest.approx(observed["temp_c"])  # the projection changed the climate
    assert "ssp245_2050" in os.path.basename(outputs[5])


FAST = dict(model_id="tiny-random", seed=7, steps=2, guidance=5.0, size_px=512)
PROJECTION = dict(ssp="ssp245", horizon=2050, normals_years=NORMALS)


def test_the_picked_projection_drives_the_timelapse_its_labels_and_its_file_name(stack):
    """Issue 25: the time-lapse used to ignore the Future picker (frames 'today', file `_today_`)."""
    _, _, client, _ = stack
    _gif, _mp4, download, summary = client.predict(
        lat=LAT, lon=LON, start="2020-01", end="2020-02", climate_source="scenario", temp_delta_c=0.0,
        precip_pct=0.0, chain="independent", side_by_side=False, video_format="gif", fps=2.0,
        land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, **FAST, **PROJECTION, api_name="/timelapse",
    )  # fmt: skip
    name = os.path.basename(download)
    assert "ssp245_2050" in name and "today" not in name
    assert "2 frames, 2020-01 to 2020-02, SSP2-4.5 2050" in summary

    # "Observed" climate means no scenario at all, the picked projection included.
    _gif, _mp4, download, summary = client.predict(
        lat=LAT, lon=LON, start="2020-01", end="2020-01", climate_source="observed", temp_delta_c=0.0,
        precip_pct=0.0, chain="independent", side_by_side=False, video_format="gif", fps=2.0,
        land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, **FAST, **PROJECTION, api_name="/timelapse",
    )  # fmt: skip
    assert "_today_" in os.path.basename(download) and "SSP" not in summary


def test_the_picked_projection_is_the_centre_of_the_scenario_grid(stack):
    from PIL import Image

    _, _, client, _ = stack
    observed = dict(temp_c=20.0, precip_mm_day=1.0, solar_mj_m2_day=20.0)
    _image, download = client.predict(
        lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, **observed,
        temp_deltas_text="0, 2", precip_pcts_text="0", **FAST, **PROJECTION, api_name="/scenario_grid",
    )  # fmt: skip
    assert "ssp245_2050" in os.path.basename(download)
    with Image.open(download) as stored:
        label, cells = stored.info["label"], json.loads(stored.info["cells"])
    assert "changes to SSP2-4.5 2050's" in label
    # The ±0 cell is the projection's February climate, not the observed 20 °C.
    centre = cells[0][0]["final_climate"]["temp_c"]
    assert centre != pytest.approx(20.0, abs=0.05)
    assert cells[1][0]["final_climate"]["temp_c"] == pytest.approx(centre + 2.0, abs=0.02)
    # each cell records the observed climate as observed, and the projection plus its change as the scenario
    for row in cells:
        assert row[0]["observed_climate"]["temp_c"] == pytest.approx(20.0)
    assert cells[0][0]["scenario"]["kind"] == "projection" and "then" not in cells[0][0]["scenario"]
    assert cells[1][0]["scenario"]["then"]["temp_delta_c"] == 2.0
    assert cells[1][0]["scenario"]["label"].endswith(", then +2 °C")


def test_the_picked_projection_drives_the_models_tab(stack):
    _, _, client, _ = stack
    _sheet, metrics, _missing, file_path = client.predict(
        lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, temp_c=20.0,
        precip_mm_day=0.5, solar_mj_m2_day=20.0, temp_delta_c=0.0, precip_pct=0.0, seed=3, **PROJECTION,
        api_name="/compare_models",
    )  # fmt: skip
    name = os.path.basename(file_path)
    assert "ssp245_2050" in name and "today" not in name
    assert metrics.startswith("Scenario: **SSP2-4.5 2050** · Real image:")
