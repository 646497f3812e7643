"""Paper tables from per-sample records: grouping, FID per row from stored features, extremes, Markdown."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.evaluation.results import ResultStore, result_key
from core.evaluation.tables import build_tables, extreme_thresholds, to_markdown
from core.metrics.fid import fid_from_features


def _records(n: int = 12):
    rng = np.random.default_rng(0)
    records, features = [], {}
    for i in range(n):
        key = result_key("m", "text", f"loc{i % 3}@20{17 + i % 2}-0{1 + i % 9}")
        record = {
            "key": key,
            "model": "m",
            "mode": "text",
            "land_cover": ["Savannas", "Croplands", "Grasslands"][i % 3],
            "year": 2017 + i % 2,
            "temp_c": float(i * 3 - 10),
            "precip_mm_day": float(i % 5),
            "solar_mj_m2_day": float(10 + i),
            "ssim": 0.1 * (i % 4),
            "psnr": 10.0 + i,
            "lpips": 0.5,
            "clip": None,
        }
        records.append(record)
        features[key] = (rng.normal(size=8), rng.normal(size=8) + 0.3 * (i % 3))
    return records, features


def test_tables_group_and_average_like_the_paper():
    records, features = _records()
    thresholds = extreme_thresholds(records)
    tables = build_tables(records, thresholds, features.get)
    overall = tables["models"].iloc[0]
    assert overall["Model"] == "m (text-to-image)" and overall["N"] == 12
    assert overall["psnr"] == pytest.approx(np.mean([r["psnr"] for r in records]))
    assert math.isnan(overall["clip"])  # no values: n/a, not 0
    expected_fid = fid_from_features(
        np.stack([features[r["key"]][0] for r in records]), np.stack([features[r["key"]][1] for r in records])
    )
    assert overall["fid"] == pytest.approx(expected_fid, rel=1e-6)

    by_class = tables["land_cover"].set_index("Land cover")
    assert list(by_class.index) == ["Croplands", "Grasslands", "Savannas"]
    savannas = [r for r in records if r["land_cover"] == "Savannas"]
    assert by_class.loc["Savannas", "ssim"] == pytest.approx(np.mean([r["ssim"] for r in savannas]))
    assert by_class.loc["Savannas", "fid"] == pytest.approx(
        fid_from_features(
            np.stack([features[r["key"]][0] for r in savannas]), np.stack([features[r["key"]][1] for r in savannas])
        ),
        rel=1e-6,
    )
    assert list(tables["year"]["Year"]) == [2017, 2018]
    assert list(tables["year"]["N"]) == [6, 6]


def test_extreme_rows_use_the_dataset_percentiles():
    records, features = _records()
    thresholds = extreme_thresholds(records, percentile=10)
    temps = [r["temp_c"] for r in records]
    assert thresholds.bounds["temp_c"] == (np.percentile(temps, 10), np.percentile(temps, 90))
    extremes = build_tables(records, thresholds, features.get)["extremes"].set_index("Condition")
    high_temp = next(c for c in extremes.index if c.startswith("high temperature"))
    hot = [r for r in records if r["temp_c"] >= thresholds.bounds["temp_c"][1]]
    assert extremes.loc[high_temp, "N"] == len(hot) == 2
    assert extremes.loc[high_temp, "psnr"] == pytest.approx(np.mean([r["psnr"] for r in hot]))
    assert len(extremes) == 7  # reference row + high/low for three variables


def test_markdown_has_the_paper_columns_and_marks_missing_values():
    records, _features = _records()
    table = build_tables(records, extreme_thresholds(records), None)["models"]
    markdown = to_markdown(table)
    header, _rule, row = markdown.strip().splitlines()
    assert header == "| Model | N | FID ↓ | LPIPS ↓ | SSIM ↑ | PSNR ↑ | CLIP ↑ |"
    assert row.startswith("| m (text-to-image) | 12 | n/a | 0.5000 |")
    assert row.endswith("| n/a |")


def test_result_store_ignores_a_torn_line_and_keeps_the_latest_record(tmp_path):
    store = ResultStore(tmp_path, rank=0)
    store.append({"key": "a", "ssim": 0.1, "psnr": math.inf})
    store.append({"key": "b", "ssim": 0.2, "psnr": 3.0})
    store.append({"key": "a", "ssim": 0.3, "psnr": 4.0})
    with store.part_path.open("a") as handle:
        handle.write('{"key": "c", "ssim"')  # interrupted write
    other = ResultStore(tmp_path, rank=1)
    other.append({"key": "d", "ssim": None, "psnr": 1.0})
    records = {r["key"]: r for r in store.read_all()}
    assert sorted(records) == ["a", "b", "d"]
    assert records["a"]["ssim"] == 0.3
    assert store.finished_keys(["ssim"], needs_features=False) == {"a", "b"}
    store.write_features("b", np.ones(4), np.zeros(4))
    assert store.finished_keys(["ssim"], needs_features=True) == {"b"}
    assert json.loads(ResultStore(tmp_path).part_path.read_text().splitlines()[0])["psnr"] == "inf"


def test_result_store_append_after_a_torn_line_keeps_the_new_record(tmp_path):
    store = ResultStore(tmp_path, rank=0)
    store.append({"key": "a", "ssim": 0.1})
    with store.part_path.open("a") as handle:
        handle.write('{"key": "c", "ssim"')  # a crash mid-write: no newline
    store.append({"key": "e", "ssim": 0.5})  # the resumed run's first record
    assert [r["key"] for r in store.read_all()] == ["a", "e"]
    assert store.finished_keys(["ssim"], needs_features=False) == {"a", "e"}


def test_importing_the_metrics_and_evaluation_modules_does_not_load_torch():
    import subprocess
    import sys

    code = (
        "import sys, core.dataset.reader, core.metrics, core.evaluation.run, core.commands.evaluate; "
        "print(sorted(m for m in ('torch', 'accelerate', 'matplotlib', 'transformers') if m in sys.modules))"
    )
    from tests.conftest import REPO

    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
