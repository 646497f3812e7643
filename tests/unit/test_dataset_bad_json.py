"""A bad sample file is skipped and named, never aborts a run (issue 26: one deeply nested JSON aborted a whole
evaluate / train / gap-fill evaluation without naming the file, while nine other corrupt files were skipped)."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from core.dataset.reader import read_dataset


def _sample(folder, month: str, text: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        folder / f"{folder.name}_{month}.png"
    )
    record = {
        "type": "Grasslands", "date": month, "center_coordinates": [24.8, -11.4], "cloud_coverage": 0.0,
        "caption_info": {"location_address": "Tiris, Mauritania"},
    }  # fmt: skip
    (folder / f"{folder.name}_{month}.json").write_text(text if text is not None else json.dumps(record))


def test_nested_or_overlong_sample_json_is_skipped_with_its_name(tmp_path):
    _sample(tmp_path / "p1", "2020-01")
    _sample(tmp_path / "p1", "2020-02", "[" * 100_000 + "]" * 100_000)
    _sample(tmp_path / "p1", "2020-03", '{"cloud_coverage": ' + "9" * 5000 + "}")
    dataset = read_dataset(tmp_path, resolve_places=False)
    assert [s.sample_id for s in dataset] == ["p1@2020-01"]
    reasons = {item.path.name: item.reason for item in dataset.skipped}
    assert reasons["p1_2020-02.json"] == "corrupt json: nested too deeply to read"
    assert reasons["p1_2020-03.json"].startswith("corrupt json: Exceeds the limit (4300 digits)")
