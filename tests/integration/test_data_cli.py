"""`python -m core climate|scene|landcover` in a subprocess against the replay server."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio
from PIL import Image

from tests.conftest import REPO
from tests.support.replay_server import FakeStacApi, Fault

pytestmark = pytest.mark.slow  # each case starts a Python process (~1-2 s)

SAHARA = ["--lat", "24.8", "--lon", "-11.4"]


def run_core(server, tmp_path, *args):
    env = {
        **os.environ,
        **server.env(),
        "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache"),
        "ECOMAPPER_RETRIES": "1",
        "ECOMAPPER_BACKOFF_S": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_climate_json_and_csv(replay_server, tmp_path):
    done = run_core(replay_server, tmp_path, "climate", *SAHARA, "--start", "2020-01", "--end", "2020-02")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [m["month"] for m in out["months"]] == ["2020-01", "2020-02"]
    assert out["units"]["temp_c"] == "C" and out["months"][1]["source"] == "monthly"
    done = run_core(
        replay_server, tmp_path, "climate", *SAHARA, "--start", "2020-01", "--end", "2020-02", "--format", "csv"
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "month,temp_c,precip_mm_day,solar_mj_m2_day,source" and len(lines) == 3


def test_scene_writes_png_meta_and_geotiff(replay_server, tmp_path):
    out, meta, tif = tmp_path / "scene.png", tmp_path / "scene.json", tmp_path / "scene.tif"
    done = run_core(
        replay_server,
        tmp_path,
        "scene",
        *SAHARA,
        "--month",
        "2020-02",
        "--out",
        str(out),
        "--meta",
        str(meta),
        "--geotiff",
        str(tif),
    )
    assert done.returncode == 0, done.stderr
    image = np.asarray(Image.open(out))
    assert image.shape == (512, 512, 3)
    assert json.loads(meta.read_text())["scene_id"] == "S2A_29RKH_20200219_0_L2A"
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 32629 and src.shape == (512, 512)
        assert np.array_equal(src.read().transpose(1, 2, 0), image)
    assert json.loads(done.stdout)["crs"] == "EPSG:32629"


def test_landcover_prints_class_and_place(replay_server, tmp_path):
    done = run_core(replay_server, tmp_path, "landcover", *SAHARA)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["land_cover"] == "Barren or Sparsely Vegetated" and out["country"] == "Mauritania"


def test_landcover_after_a_server_error_exits_non_zero(replay_server, tmp_path):
    # issue 26: it exited 0 with land_cover null, which a script takes as "no class here"
    replay_server.inject("/lc/v1/search", *[Fault("status", status=500)] * 10)
    done = run_core(replay_server, tmp_path, "landcover", *SAHARA)
    assert done.returncode == 2 and done.stdout == ""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: No land-cover product could be read")
    assert "500" in errors[0]
    replay_server.faults.clear()
    again = run_core(replay_server, tmp_path, "landcover", *SAHARA)  # not cached: answered once the service is back
    assert again.returncode == 0 and json.loads(again.stdout)["land_cover"] == "Barren or Sparsely Vegetated"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["climate", "--lat", "91", "--lon", "0", "--start", "2020-01", "--end", "2020-02"], "latitude 91"),
        (["climate", "--lat", "0", "--lon", "200", "--start", "2020-01", "--end", "2020-02"], "longitude 200"),
        (["scene", *SAHARA, "--month", "2020-13", "--out", "x.png"], "month number 13"),
        (["scene", *SAHARA, "--month", "2199-01", "--out", "x.png"], "in the future"),
        (["climate", *SAHARA, "--start", "2020-05", "--end", "2020-01"], "before the start"),
        (["landcover", "--lat", "0", "--lon", "-30"], "open sea"),
        (["scene", "--lat", "0", "--lon", "-140", "--month", "2020-02", "--out", "x.png"], "open sea"),
        (["climate", "--lat", "0", "--lon", "-140", "--start", "2020-01", "--end", "2020-02"], "open sea"),
        (["climate", *SAHARA, "--start", "2025-03", "--end", "2025-05"], "-999"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(replay_server, tmp_path, args, message):
    done = run_core(replay_server, tmp_path, *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_upstream_faults_on_the_command_line(replay_server, tmp_path):
    replay_server.inject("/stac/v1/search", Fault("empty"))
    done = run_core(replay_server, tmp_path, "scene", *SAHARA, "--month", "2020-02", "--out", str(tmp_path / "a.png"))
    assert done.returncode == 2 and "best cloud cover found" in done.stderr and "Traceback" not in done.stderr
    items = replay_server.sahara_items(scl=None)[:1]
    replay_server.register_file("cut.tif", replay_server.files["tci.tif"])
    items[0]["assets"]["visual"]["href"] = replay_server.file_url("cut.tif")
    replay_server.stac = FakeStacApi(items)
    replay_server.inject("/files/cut.tif", Fault("truncate", size=40_000))
    done = run_core(replay_server, tmp_path, "scene", *SAHARA, "--month", "2020-02", "--out", str(tmp_path / "b.png"))
    assert done.returncode == 2 and "truncated" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    replay_server.inject("/power/monthly", *[Fault("status", status=500)] * 2)
    done = run_core(replay_server, tmp_path, "climate", *SAHARA, "--start", "2020-01", "--end", "2020-01")
    assert done.returncode == 2 and "HTTP 500" in done.stderr and "Traceback" not in done.stderr


def test_second_scene_request_works_offline(replay_server, tmp_path):
    args = ["scene", *SAHARA, "--month", "2020-02", "--out", str(tmp_path / "s.png")]
    assert run_core(replay_server, tmp_path, *args).returncode == 0
    env = {
        **os.environ,
        **replay_server.env(),
        "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache"),
        "ECOMAPPER_OFFLINE": "1",
    }
    replay_server.stop()  # nothing left to talk to
    done = subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scene_id"] == "S2A_29RKH_20200219_0_L2A"
