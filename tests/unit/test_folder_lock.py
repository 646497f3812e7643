"""One run per output folder (issue 26: two `train` runs on one folder interleaved loss.csv and crashed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core.errors import BadRequestError
from core.io.folder_lock import LOCK_NAME, folder_lock

HOLD = (
    "import sys, time\n"
    "from core.io.folder_lock import folder_lock\n"
    "with folder_lock(sys.argv[1], 'training output folder'):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(60)\n"
)


def _holder(folder):
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_naming_the_holders_pid(tmp_path):
    holder = _holder(tmp_path / "run")
    try:
        with (
            pytest.raises(BadRequestError, match=rf"is in use by another run \(pid {holder.pid}\)"),
            folder_lock(tmp_path / "run", "output_dir"),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path):
    holder = _holder(tmp_path / "run")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "run" / LOCK_NAME).read_text().strip() == str(holder.pid)  # the stale file stays
    with folder_lock(tmp_path / "run", "output_dir"):
        assert (tmp_path / "run" / LOCK_NAME).read_text().strip() == str(os.getpid())
    with folder_lock(tmp_path / "run", "output_dir"):  # released at the end of the block
        pass


def test_the_processes_of_one_run_lock_their_own_parts(tmp_path):
    with (
        folder_lock(tmp_path, "--out", part="0"),
        folder_lock(tmp_path, "--out", part="1"),
        pytest.raises(BadRequestError, match="in use"),
        folder_lock(tmp_path, "--out", part=""),  # a plain run meets rank 0's lock
    ):
        pass


@pytest.mark.slow
def test_a_second_train_on_one_folder_is_refused_before_any_step(tmp_path):
    from tests.conftest import ECOMAPPER_EXAMPLE, REPO

    if not ECOMAPPER_EXAMPLE.exists():
        pytest.skip(f"shared fixture {ECOMAPPER_EXAMPLE} is not present")
    preset = (REPO / "assets" / "presets" / "train_lora_tiny.toml").read_text()
    config = tmp_path / "t.toml"
    config.write_text(preset.replace("../shared/fixtures/ecomapper_example", str(ECOMAPPER_EXAMPLE)))
    holder = _holder(tmp_path / "run")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core", "train", "--config", str(config), "--output-dir", str(tmp_path / "run")],
            cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stderr
    assert f"in use by another run (pid {holder.pid})" in done.stderr
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [LOCK_NAME]  # no loss.csv, no checkpoint


def test_a_run_that_wrote_nothing_leaves_no_folder(tmp_path):
    with pytest.raises(BadRequestError), folder_lock(tmp_path / "new", "--out"):
        raise BadRequestError("refused before any work", "")
    assert not (tmp_path / "new").exists()
    with folder_lock(tmp_path / "kept", "--out") as folder:
        (folder / "report.md").write_text("x")
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == [LOCK_NAME, "report.md"]


def test_a_resumed_run_removes_the_temporaries_a_killed_one_left(tmp_path):
    from core.io.files import atomic_write_bytes, temporary_sibling

    results = tmp_path / "report" / "results"
    results.mkdir(parents=True)
    old = [results / ".part-0.jsonl.k2j3h4.tmp", temporary_sibling(results / "x.png")]
    old[0].write_bytes(b"half")
    assert old[1].name.endswith(".tmp.png")
    fresh = results / ".features.abc123.tmp"  # another rank of this run, writing now
    fresh.write_bytes(b"being written")
    kept = [results / "part-0.jsonl", results / ".hidden-config"]
    for path in kept:
        path.write_text("keep")
    for path in old:
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    with folder_lock(tmp_path / "report", "--out"):
        assert not any(path.exists() for path in old)
        assert fresh.exists() and all(path.exists() for path in kept)
        atomic_write_bytes(results / "y.bin", b"y")  # writers still work in the folder
    assert (results / "y.bin").read_bytes() == b"y"
