"""Importing the app (and building its page) must not import torch or the model libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate")


def _loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_app_modules_loads_no_model_library():
    # the packages are empty: name the modules that import the rest (every handler, area and the wiring)
    modules = (
        "app, app.ui, app.layout.page, app.handlers.registry, app.map_picker, app.formatting, app.state, app.charts"
    )
    assert _loaded_after(f"import app as entry\nimport {modules}") == []


def test_building_the_page_loads_no_model_library(tmp_path):
    # The model is loaded on the first generation, never when the page is built.
    code = (
        "from pathlib import Path\nfrom app.ui import build_ui\n"
        f"demo = build_ui('tiny-random', output_dir=Path({str(tmp_path)!r}))\n"
        "assert demo.fns, 'no events were wired'"
    )
    assert _loaded_after(code) == []
