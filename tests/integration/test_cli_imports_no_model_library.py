"""The command line imports no model library for `--help` or a data command (each case is a subprocess)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

MODEL_LIBRARIES = ("torch", "diffusers", "transformers", "accelerate", "peft")

# Runs `python -m core ARGS` in this process (as `-m core` would), then lists the model libraries
# that were imported, whatever the exit status (argparse exits after printing --help).
PROBE = """
import json, sys
from core.cli import main
status = 0
try:
    status = main(sys.argv[1:])
except SystemExit as exit_:
    status = exit_.code or 0
print("MODULES " + json.dumps(sorted(m for m in {libraries!r} if m in sys.modules)))
sys.exit(status)
"""


def _run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(libraries=MODEL_LIBRARIES), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    return done.returncode, json.loads(line.removeprefix("MODULES ")), done.stdout + done.stderr


@pytest.mark.parametrize("args", [("--help",), ("climate", "--help"), ("generate", "--help"), ("evaluate", "--help")])
def test_help_imports_no_model_library(args):
    status, imported, output = _run_cli(*args)
    assert status == 0, output
    assert "usage: python -m core" in output
    assert imported == []


@pytest.mark.slow  # starts a process that loads the land mask and fetches (~3 s)
def test_a_climate_run_imports_no_model_library(replay_server, tmp_path):
    env = {**replay_server.env(), "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache"), "ECOMAPPER_RETRIES": "1"}
    status, imported, output = _run_cli(
        "climate", "--lat", "24.8", "--lon", "-11.4", "--start", "2020-01", "--end", "2020-02", env=env
    )
    assert status == 0, output
    assert '"2020-02"' in output  # it really fetched and printed the series
    assert imported == []
