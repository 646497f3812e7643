"""`python -m core evaluate` end to end with the tiny random SD3 on the real EcoMapper example samples.

Metric weights: random-weight Inception and AlexNet files in the standard key layout, written by the
test (no download); the LPIPS heads shipped with torchmetrics; a tiny CLIP saved in code.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from core.cli import main
from tests.conftest import ECOMAPPER_EXAMPLE, REPO, require_shared
from tests.support.evaluation_tables import assert_same_tables
from tests.support.metrics_tiny_clip import save_tiny_clip
from tests.support.metrics_weights import write_random_alexnet, write_random_inception

pytestmark = pytest.mark.slow

COMMON = ["--model", "tiny-random", "--steps", "2", "--size", "64", "--seed", "7", "--no-download"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("metric-weights")
    inception = folder / "pt_inception-2015-12-05-6726825d.pth"
    write_random_inception(inception)
    alexnet = folder / "alexnet-owt-7be5be79.pth"
    write_random_alexnet(alexnet)
    clip = save_tiny_clip(folder / "tiny-clip", seed=2)
    return {"inception": inception, "alexnet": alexnet, "clip": clip}


def _weight_args(weights: dict[str, Path]) -> list[str]:
    return [
        "--inception-weights", str(weights["inception"]), "--alexnet-weights", str(weights["alexnet"]),
        "--clip-model", str(weights["clip"]),
    ]  # fmt: skip


@pytest.fixture
def example() -> Path:
    return require_shared(ECOMAPPER_EXAMPLE)


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_DEVICE", "cpu")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_evaluate_writes_all_tables_and_plots_then_resumes(example, weights, tmp_path, capsys):
    out = tmp_path / "report"

    def command(limit: int) -> list[str]:
        return ["evaluate", "--data", str(example), "--out", str(out), "--limit", str(limit), *COMMON,
                *_weight_args(weights)]  # fmt: skip

    argv = command(6)
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "evaluated 6 samples (6 generated now, 0 reused)" in printed

    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"] == ["fid", "lpips", "ssim", "psnr", "clip"]
    assert summary["skipped_files"] == {"near-empty image": 2}
    overall = _read_csv(out / "tables" / "models.csv")
    assert [row["Model"] for row in overall] == ["tiny-random (text-to-image)"]
    assert overall[0]["N"] == "6"
    for metric in ("fid", "lpips", "ssim", "psnr", "clip"):
        assert overall[0][metric] not in ("", "nan"), metric
    assert float(overall[0]["fid"]) > 1e-3  # noise against real scenes
    assert -1 <= float(overall[0]["ssim"]) < 0.5
    land_cover = _read_csv(out / "tables" / "land_cover.csv")
    assert {row["Land cover"] for row in land_cover} == {
        "Evergreen Needleleaf Forests",
        "Mixed Forests",
        "Woody Savannas",
    }
    assert sum(int(row["N"]) for row in land_cover) == 6
    assert sum(int(row["N"]) for row in _read_csv(out / "tables" / "year.csv")) == 6
    conditions = [row["Condition"] for row in _read_csv(out / "tables" / "extremes.csv")]
    assert len(conditions) == 7 and conditions[1].startswith("high temperature")
    report = (out / "report.md").read_text()
    for title in ("Quantitative comparison per model", "Per land cover", "Per year", "Extreme climate conditions"):
        assert f"## {title}" in report
    assert "| Model | N | FID ↓ | LPIPS ↓ | SSIM ↑ | PSNR ↑ | CLIP (cosine) ↑ |" in report  # the paper's scale, named
    assert "produces noise" in report
    for plot in ("metrics_by_land_cover.png", "metrics_vs_climate.png"):
        with Image.open(out / "plots" / plot) as image:
            assert image.size[0] > 300 and image.size[1] > 200

    results_before = (out / "results" / "part-0.jsonl").read_bytes()
    records = [json.loads(line) for line in results_before.decode().splitlines()]
    assert len(records) == 6 and len({r["seed"] for r in records}) == 6
    assert main(argv) == 0  # second run: everything is already there
    assert "evaluated 6 samples (0 generated now, 6 reused)" in capsys.readouterr().out
    assert (out / "results" / "part-0.jsonl").read_bytes() == results_before
    assert (out / "report.md").read_text() == report

    # a larger limit only runs the new samples
    assert main(command(8)) == 0
    assert "(2 generated now, 6 reused)" in capsys.readouterr().out


def test_controlnet_with_the_previous_real_month(example, tmp_path, capsys):
    out = tmp_path / "cn"
    argv = ["evaluate", "--data", str(example), "--out", str(out), "--limit", "3", "--controlnet-previous",
            "--metrics", "ssim,psnr", *COMMON]  # fmt: skip
    assert main(argv) == 0
    records = [json.loads(line) for line in (out / "results" / "part-0.jsonl").read_text().splitlines()]
    assert {r["mode"] for r in records} == {"controlnet"}
    for record in records:
        assert record["control_month"] < record["month"]
    overall = _read_csv(out / "tables" / "models.csv")
    assert overall[0]["Model"] == "tiny-random (ControlNet (previous month))"
    assert overall[0]["fid"] == ""  # not asked for


def test_a_corrupt_image_is_skipped_and_counted(example, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(example / "2021-2022", data / "2021-2022")
    for path in data.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    from core.dataset.reader import read_dataset
    from core.evaluation.selection import stratified_order

    # images are checked when reached: the second sample of the seeded order is corrupt (skipped, replaced)
    order = stratified_order(read_dataset(data, open_images=False, resolve_places=False), seed=7)
    next(order)
    victim = next(order).image_path
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    out = tmp_path / "out"
    argv = ["evaluate", "--data", str(data), "--out", str(out), "--limit", "3", "--metrics", "ssim,psnr", *COMMON]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "evaluated 3 samples" in printed and "skipped files: {'corrupt image': 1}" in printed
    assert json.loads((out / "summary.json").read_text())["skipped_files"] == {"corrupt image": 1}
    assert "1 dataset file(s) skipped (1 corrupt image)" in (out / "report.md").read_text()


def test_a_wrong_path_gives_one_clear_line(tmp_path, capsys):
    code = main(["evaluate", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), *COMMON])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: The dataset path") and "does not exist" in err
    assert len(err.splitlines()) == 1
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["evaluate", "--data", str(tmp_path), "--out", str(a_file), *COMMON]) == 2
    assert "is a file" in capsys.readouterr().err


def test_two_processes_give_the_same_table_as_one(example, weights, tmp_path):
    def args(out: Path) -> list[str]:
        # one sample per batch: batched kernels round differently in the last bits, and the two
        # processes group the samples differently from one process
        return ["evaluate", "--data", str(example), "--out", str(out), "--limit", "4", "--metrics", "fid,ssim,psnr",
                "--inception-weights", str(weights["inception"]), "--batch-size", "1", *COMMON]  # fmt: skip

    assert main(args(tmp_path / "one")) == 0
    # torchrun starts two processes; evaluate splits the samples between them over gloo on the CPU
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "core", *args(tmp_path / "two")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    parts = {p.name: len(p.read_text().splitlines()) for p in (tmp_path / "two" / "results").glob("part-*.jsonl")}
    assert parts == {"part-0.jsonl": 2, "part-1.jsonl": 2}
    assert json.loads((tmp_path / "two" / "summary.json").read_text())["num_processes"] == 2
    assert_same_tables(tmp_path / "one", tmp_path / "two")
    assert "nan" not in (tmp_path / "one" / "tables" / "models.csv").read_text().split("\n")[1]


class _FlatGenerator:
    """A stand-in image source: one flat colour per sample (the evaluation's SampleGenerator protocol)."""

    label = "flat"

    def generate(self, sample, control, seed):
        import numpy as np

        return np.full((64, 64, 3), seed % 256, dtype=np.uint8)


def test_save_images_writes_one_png_per_sample_at_the_real_size(example, tmp_path, settings):
    from core.evaluation.run import EvaluationConfig, evaluate

    out = tmp_path / "saved"
    config = EvaluationConfig(
        model_id="flat", data_dir=example, out_dir=out, limit=3, metrics=("ssim", "psnr"), save_images=True
    )
    report = evaluate(config, settings, generator=_FlatGenerator())
    assert report.generated == 3
    records = [json.loads(line) for line in (out / "results" / "part-0.jsonl").read_text().splitlines()]
    images = sorted((out / "images").iterdir())
    assert [p.name for p in images] == sorted(f"{r['key']}.png" for r in records)  # no stray temporary files
    for record in records:
        with Image.open(out / "images" / f"{record['key']}.png") as image:
            assert image.size == (512, 512)  # resized to the real image
            assert image.getpixel((0, 0)) == (record["seed"] % 256,) * 3
