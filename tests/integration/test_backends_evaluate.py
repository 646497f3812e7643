"""`python -m core evaluate` with the peer backends (tiny variants) on the real EcoMapper example samples."""

from __future__ import annotations

import csv
import json

import pytest

from core.cli import main
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

pytestmark = pytest.mark.slow

COMMON = ["--steps", "2", "--size", "64", "--seed", "3", "--no-download", "--metrics", "ssim,psnr", "--limit", "3"]


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_DEVICE", "cpu")


def test_evaluate_diffusionsat_writes_its_rows(tmp_path, capsys):
    example = require_shared(ECOMAPPER_EXAMPLE)
    out = tmp_path / "report"
    assert main(["evaluate", "--model", "tiny-diffusionsat", "--data", str(example), "--out", str(out), *COMMON]) == 0
    assert "evaluated 3 samples (3 generated now, 0 reused)" in capsys.readouterr().out
    with (out / "tables" / "models.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Model"] for row in rows] == ["tiny-diffusionsat (text-to-image)"]
    assert rows[0]["N"] == "3" and -1 <= float(rows[0]["ssim"]) < 0.5
    records = [json.loads(line) for line in (out / "results" / "part-0.jsonl").read_text().splitlines()]
    assert {r["model"] for r in records} == {"tiny-diffusionsat"}
    assert "tiny random DiffusionSat (noise)" in (out / "report.md").read_text()


def test_canny_layout_needs_the_previous_month_and_then_runs(tmp_path, capsys):
    example = require_shared(ECOMAPPER_EXAMPLE)
    out = tmp_path / "canny"
    argv = ["evaluate", "--model", "tiny-geosynth-canny", "--data", str(example), "--out", str(out), *COMMON]
    assert main(argv) == 2
    assert "--controlnet-previous" in capsys.readouterr().err
    assert main([*argv, "--controlnet-previous"]) == 0
    assert "generated now" in capsys.readouterr().out


def test_zoomldm_rows_use_the_previous_month_as_reference_never_the_target(tmp_path, capsys):
    example = require_shared(ECOMAPPER_EXAMPLE)
    out = tmp_path / "zoom"
    argv = ["evaluate", "--model", "tiny-zoomldm", "--data", str(example), "--out", str(out), *COMMON]
    assert main(argv) == 2
    assert "--controlnet-previous" in capsys.readouterr().err
    assert main([*argv, "--controlnet-previous"]) == 0
    assert "generated now" in capsys.readouterr().out
    with (out / "tables" / "models.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Model"].split(" (")[0] for row in rows] == ["tiny-zoomldm"] and int(rows[0]["N"]) >= 1
    assert "tiny random ZoomLDM (noise" in (out / "report.md").read_text()
