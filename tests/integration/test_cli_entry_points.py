"""The installed `ecomapper` command (scripts/setup.sh installs the project editable): the same commands as
`python -m core`, from any folder, and `ecomapper app` starting the app's own entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ECOMAPPER = Path(sys.executable).with_name("ecomapper")


def test_the_ecomapper_command_works_from_another_folder(tmp_path):
    assert ECOMAPPER.is_file(), "scripts/setup.sh installs the project (pip install -e .) and its command"
    done = subprocess.run(
        [str(ECOMAPPER), "prompt", "--lat", "24.8", "--lon", "-11.4", "--month", "2020-02", "--land-cover",
         "Croplands", "--state", "Tiris Zemmour", "--country", "Mauritania", "--temp", "20", "--precip", "1",
         "--rad", "20", "--offline"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    prompts = json.loads(done.stdout)
    assert prompts["spatial"] == "a satellite image of Croplands in Tiris Zemmour, Mauritania on February 2020."
    usage = subprocess.run([str(ECOMAPPER), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert usage.stdout.startswith("usage: ecomapper ")


def test_ecomapper_app_hands_its_options_to_the_app(tmp_path):
    done = subprocess.run(
        [str(ECOMAPPER), "app", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ecomapper app") and "--allow-model" in done.stdout
    wrong = subprocess.run(
        [str(ECOMAPPER), "app", "--port", "many"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert wrong.returncode == 2 and "invalid int value: 'many'" in wrong.stderr
