"""A dask.distributed cluster on 127.0.0.1 started with dask's own CLI (`dask scheduler`, `dask worker`),
as a user starts one on several machines; the workers import this worktree's `core`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 120


@contextmanager
def dask_cli_cluster(folder: Path, workers: int = 2) -> Iterator[str]:
    """Start a scheduler and `workers` single-thread worker processes; yield the scheduler address."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    common = ["--scheduler-file", str(scheduler_file)]
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", *common],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "scheduler.log").open("wb"),
        )
    ]
    try:
        address = _wait_for_address(scheduler_file, procs[0])
        worker = [str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        for index in range(workers):
            procs.append(
                subprocess.Popen(
                    [*worker, "--name", f"w{index}", "--local-directory", str(folder / f"w{index}")],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(folder / f"worker{index}.log").open("wb"),
                )
            )
        from distributed import Client

        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_for_address(scheduler_file: Path, proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`dask scheduler` exited with {proc.returncode}")
        if scheduler_file.is_file():
            try:
                return json.loads(scheduler_file.read_text())["address"]
            except (ValueError, KeyError):
                pass  # written but not complete yet
        time.sleep(0.2)
    raise RuntimeError(f"`dask scheduler` wrote no {scheduler_file} in {START_TIMEOUT_S} s")
