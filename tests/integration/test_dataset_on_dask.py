"""build-dataset on a dask.distributed cluster started with dask's own CLI: the same files as the
serial build, and a rerun on the cluster changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.dataset.builder import FAILURES_FILE, LOCATIONS_FILE, Location, build_dataset
from core.geo import Point, month_range
from tests.support.dask_cli_cluster import dask_cli_cluster

pytestmark = pytest.mark.slow

# Inside the replay server's Sahara scene and land-cover rasters, plus a sea point that fails.
PLACES = [
    Location("sahara", Point(24.8, -11.4)),
    Location("east", Point(24.81, -11.37)),
    Location("south", Point(24.78, -11.41)),
    Location("atlantic", Point(30.0, -40.0), land_cover="Grasslands"),
]


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root` by relative path: its bytes and modification time."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_cluster_build_writes_the_serial_files_and_a_rerun_changes_nothing(data_settings, replay_server, tmp_path):
    months = month_range("2020-01", "2020-02")  # the replay STAC has a scene in 2020-02 only
    serial = build_dataset(PLACES, months, tmp_path / "serial", data_settings, max_workers=2)

    with dask_cli_cluster(tmp_path / "cluster") as address:
        seen: list[tuple[int, int]] = []
        clustered = build_dataset(
            PLACES,
            months,
            tmp_path / "dask",
            data_settings,
            scheduler=address,
            progress=lambda done, total, _message: seen.append((done, total)),
        )
        before = _files(tmp_path / "dask")
        fetched = len(replay_server.requests_to("/files/"))
        again = build_dataset(PLACES, months, tmp_path / "dask", data_settings, scheduler=address)

    names = sorted(p.name for p in serial.written)
    assert names == ["east_2020-02.png", "sahara_2020-02.png", "south_2020-02.png"]
    assert sorted(p.name for p in clustered.written) == names
    assert [(f.location_id, f.month, f.stage) for f in clustered.failures] == [
        (f.location_id, f.month, f.stage) for f in serial.failures
    ]
    assert ("atlantic", "2020-01", "place") in [(f.location_id, f.month, f.stage) for f in serial.failures]
    serial_files = {name: data for name, (data, _) in _files(tmp_path / "serial").items()}
    cluster_files = {name: data for name, (data, _) in before.items()}
    assert FAILURES_FILE in cluster_files and LOCATIONS_FILE in cluster_files
    assert cluster_files == serial_files  # byte for byte, PNGs, JSONs, locations and failures
    assert seen[-1] == (8, 8) and [done for done, _ in seen] == list(range(1, 9))

    # the rerun: nothing fetched, nothing written, not a file touched
    assert again.written == () and again.skipped_existing == 3
    assert len(again.failures) == 5
    assert len(replay_server.requests_to("/files/")) == fetched
    assert _files(tmp_path / "dask") == before


def test_cli_builds_on_a_local_cluster_of_processes(replay_server, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    locations = tmp_path / "locations.csv"
    locations.write_text("location_id,lat,lon\nsahara,24.8,-11.4\neast,24.81,-11.37\n", encoding="utf-8")
    env = {**os.environ, **replay_server.env(), "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "core", "build-dataset", "--locations", str(locations), "--scheduler", "local:2"]
    command += ["--start", "2020-02", "--end", "2020-02", "--out", str(tmp_path / "out")]
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("2 written, 0 already there, 0 failed")
    assert (tmp_path / "out" / "east" / "east_2020-02.json").is_file()
    assert "2/2" in proc.stderr  # the progress bar, fed as the cluster's tasks finish
