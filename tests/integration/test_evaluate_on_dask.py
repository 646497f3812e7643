"""`evaluate --scheduler`: the samples split over two dask workers (started with dask's own CLI) give
the tables of one process, with the tiny random SD3 on the real EcoMapper example samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from core.evaluation.results import ResultStore
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared
from tests.support.dask_cli_cluster import dask_cli_cluster
from tests.support.evaluation_tables import assert_same_tables
from tests.support.metrics_weights import write_random_inception

pytestmark = pytest.mark.slow


def test_two_dask_workers_give_the_tables_of_one_process(tmp_path, monkeypatch):
    example = require_shared(ECOMAPPER_EXAMPLE)
    # the workers inherit this environment when the cluster starts
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_DEVICE", "cpu")
    inception = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    write_random_inception(inception)

    def args(out: Path) -> list[str]:
        # one sample per batch, as under accelerate: batched kernels round differently in the last bits
        return ["evaluate", "--data", str(example), "--out", str(out), "--limit", "4", "--metrics", "fid,ssim,psnr",
                "--inception-weights", str(inception), "--batch-size", "1", "--model", "tiny-random",
                "--steps", "2", "--size", "64", "--seed", "7", "--no-download"]  # fmt: skip

    assert main(args(tmp_path / "one")) == 0
    with dask_cli_cluster(tmp_path / "cluster") as address:
        assert main([*args(tmp_path / "two"), "--scheduler", address]) == 0

    parts = {p.name: len(p.read_text().splitlines()) for p in (tmp_path / "two" / "results").glob("part-*.jsonl")}
    assert parts == {"part-0.jsonl": 2, "part-1.jsonl": 2}
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert (summary["num_processes"], summary["generated_this_run"], summary["selected"]) == (2, 4, 4)
    one_seeds = {r["key"]: r["seed"] for r in ResultStore(tmp_path / "one").read_all()}
    two_seeds = {r["key"]: r["seed"] for r in ResultStore(tmp_path / "two").read_all()}
    assert one_seeds == two_seeds and len(one_seeds) == 4  # the same per-sample seeds
    assert_same_tables(tmp_path / "one", tmp_path / "two")
