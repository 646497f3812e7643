"""`python -m core projection` in a subprocess: CMIP6 from the archive server, NASA POWER from the replay server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # starts a Python process

SAHARA = ["--lat", "24.8", "--lon", "-11.4"]


def run_projection(replay_server, cmip6_server, tmp_path, *args):
    env = {
        **os.environ,
        **replay_server.env(),
        "ECOMAPPER_CMIP6_CATALOG_URL": f"{cmip6_server.bucket_url}/pangeo-cmip6.csv",
        "ECOMAPPER_CMIP6_STORE_URL": cmip6_server.bucket_url,
        "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache"),
        "ECOMAPPER_RETRIES": "1",
        "ECOMAPPER_BACKOFF_S": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "core", "projection", *args], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_projection_table_and_json_use_the_power_normals(replay_server, cmip6_server, tmp_path, data_settings):
    from core.geo import Month, Point
    from core.sources.climate import fetch_climate

    args = [*SAHARA, "--ssp", "SSP2-4.5", "--year", "2050", "--observed-years", "2010-2014"]
    done = run_projection(replay_server, cmip6_server, tmp_path, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["ssp"], out["horizon"], out["period"]) == ("ssp245", 2050, [2041, 2060])
    assert [m["source_id"] for m in out["models"]] == ["ECO-360DAY", "ECO-GREG", "ECO-NOLEAP"]
    # The observed normals are NASA POWER's monthly means over 2010-2014 (replayed recording).
    ds = fetch_climate(Point(24.8, -11.4), Month(2010, 1), Month(2014, 12), data_settings)
    july = ds["temp_c"].values[ds["time"].dt.month.values == 7]
    assert out["months"][6]["observed"]["temp_c"] == pytest.approx(float(np.nanmean(july)))
    assert out["months"][6]["p10"]["temp_c"] < out["months"][6]["median"]["temp_c"] < out["months"][6]["p90"]["temp_c"]

    table = run_projection(replay_server, cmip6_server, tmp_path, *args)  # now from the cache
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("CMIP6 SSP2-4.5 (ssp245), 2050 = mean of 2041-2060")
    assert "left out: ECO-NORSDS (lacks rsds" in table.stdout
    july_row = next(line for line in lines if line.startswith("Jul"))
    assert f"{out['months'][6]['median']['temp_c']:.1f}" in july_row.split()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ssp", "ssp999", "--year", "2050"], "Unknown scenario"),
        (["--ssp", "ssp245", "--year", "2150"], "outside 2015-2100"),
    ],
)
def test_bad_input_is_one_line(replay_server, cmip6_server, tmp_path, args, message):
    done = run_projection(replay_server, cmip6_server, tmp_path, *SAHARA, *args)
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_horizon_timelapse_with_the_tiny_model(replay_server, cmip6_server, tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "horizons.gif"
    done = run_projection(
        replay_server, cmip6_server, tmp_path, *SAHARA, "--ssp", "ssp585", "--year", "2100",
        "--observed-years", "2010-2014", "--timelapse", str(out), "--month", "2020-02", "--model", "tiny-random",
        "--land-cover", "Barren or Sparsely Vegetated", "--steps", "2", "--size", "64",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"wrote {out}")
    assert iio.imread(out, index=None).shape[0] == 4  # today, 2050, 2075, 2100


def test_timelapse_without_a_month_is_refused(replay_server, cmip6_server, tmp_path):
    done = run_projection(
        replay_server, cmip6_server, tmp_path, *SAHARA, "--ssp", "ssp245", "--year", "2050", "--timelapse", "x.gif"
    )
    assert done.returncode == 2 and "--month" in done.stderr
