"""Evaluation touches only the samples it uses: `--limit 3` on 1,000 image files opens 3 of them.

File opens are counted with a Python audit hook (`sys.addaudithook`, event "open"): every real
open of a file by Python code or PIL shows up there, with its path.
"""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image

from core.config import Settings
from core.dataset.reader import read_dataset
from core.evaluation.run import EvaluationConfig, evaluate
from core.evaluation.selection import SampleSelector, stratified_order
from tests.conftest import REPO

LOCATIONS = 100
MONTHS_PER_LOCATION = 10  # 1,000 PNG files (each with its JSON)


class _PngOpens:
    """PNG files opened under a folder while recording (one process-wide audit hook, installed once)."""

    _recording: ClassVar[list[_PngOpens]] = []
    _installed = False
    _lock = threading.Lock()

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.paths: list[str] = []

    @classmethod
    def _hook(cls, event: str, args: tuple) -> None:
        if event != "open" or not cls._recording or not isinstance(args[0], (str, os.PathLike)):
            return
        path = os.fspath(args[0])
        for recorder in cls._recording:
            if path.startswith(recorder.root) and path.endswith(".png"):
                recorder.paths.append(path)

    def __enter__(self) -> _PngOpens:
        with self._lock:
            if not _PngOpens._installed:
                sys.addaudithook(_PngOpens._hook)
                _PngOpens._installed = True
        _PngOpens._recording.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _PngOpens._recording.remove(self)


def write_dataset(
    root: Path, with_address: bool = True, locations: int = LOCATIONS, months: int = MONTHS_PER_LOCATION
) -> Path:
    """`locations` x `months` (2020-01 on) small textured PNGs with EcoMapper JSONs, folders 0, 1, ..."""
    rng = np.random.default_rng(0)
    for location in range(locations):
        folder = root / str(location)
        folder.mkdir(parents=True)
        for month in range(1, months + 1):
            stem = folder / f"{location}_2020-{month:02d}"
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(stem.with_suffix(".png"))
            record = {
                "type": "Croplands",
                "date": f"2020-{month:02d}",
                "center_coordinates": [-1.0 - location / 100, 36.8],
                "cloud_coverage": 0.1,
                "climate_values": {"temp_c": 20.0 + month, "precip_mm_day": 2.0, "solar_mj_m2_day": 18.0},
            }
            if with_address:
                record["caption_info"] = {"location_address": "Nairobi, Kenya"}
            stem.with_suffix(".json").write_text(json.dumps(record))
    return root


@pytest.fixture(scope="module")
def dataset_1000(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("scan") / "data")


class _MetadataGenerator:
    """Makes an image from the metadata alone (never opens the sample's file)."""

    label = "metadata-only"

    def generate(self, sample, control, seed: int) -> np.ndarray:
        level = int(sample.metadata.climate.temp_c * 5) % 256
        image = np.full((64, 64, 3), level, np.uint8)
        image[::2, ::2] = (seed % 200) + 20
        return image


def _config(data: Path, out: Path, limit: int) -> EvaluationConfig:
    return EvaluationConfig(model_id="metadata-only", data_dir=data, out_dir=out, limit=limit, metrics=("ssim", "psnr"))


def test_limit_3_of_1000_files_opens_3_images(dataset_1000, tmp_path):
    settings = Settings.from_env().with_(cache_dir=tmp_path / "cache")
    with _PngOpens(dataset_1000) as opens:
        report = evaluate(_config(dataset_1000, tmp_path / "out", 3), settings, generator=_MetadataGenerator())
    assert report.generated == 3
    assert len(opens.paths) == 3  # each image decoded once: checked and scored from the same pixels
    records = [json.loads(line) for line in (tmp_path / "out" / "results" / "part-0.jsonl").read_text().splitlines()]
    assert sorted(Path(p).name for p in opens.paths) == sorted(
        f"{r['sample_id'].split('@')[0]}_{r['month']}.png" for r in records
    )


def test_an_unusable_image_that_is_reached_is_skipped_and_replaced(dataset_1000, tmp_path):
    data = tmp_path / "data"
    for location in range(3):  # a small copy: three locations
        (data / str(location)).mkdir(parents=True)
        for path in (dataset_1000 / str(location)).iterdir():
            (data / str(location) / path.name).write_bytes(path.read_bytes())
    order = stratified_order(read_dataset(data, open_images=False, resolve_places=False), seed=0)
    next(order)
    second = next(order)  # the second sample the evaluation reaches
    victim = data / second.location_id / f"{second.location_id}_{second.month}.png"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    settings = Settings.from_env().with_(cache_dir=tmp_path / "cache")
    with _PngOpens(data) as opens:
        report = evaluate(_config(data, tmp_path / "out", 3), settings, generator=_MetadataGenerator())
    assert report.generated == 3 and report.skipped_files == {"corrupt image": 1}
    assert len(opens.paths) == 4 and str(victim) in opens.paths
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["skipped_files"] == {"corrupt image": 1}


def test_places_are_looked_up_only_for_the_samples_reached(tmp_path):
    data = write_dataset(tmp_path / "data", with_address=False)
    dataset = read_dataset(data, open_images=False, resolve_places=False)
    assert all(sample.metadata.country is None for sample in dataset)
    looked_up: list = []

    def resolver_factory():
        def resolve(point):
            looked_up.append(point)
            return "Nairobi", "Kenya"

        return resolve

    selector = SampleSelector(dataset, key_of=lambda s: s.sample_id, limit=3, place_resolver_factory=resolver_factory)
    selected = list(selector)
    assert len(selected) == 3 and len(looked_up) == 3
    assert all(item.sample.metadata.country == "Kenya" for item in selected)
    first = selected[0].sample
    assert f"in Nairobi, Kenya on {calendar.month_name[first.month.month]} 2020" in first.prompts.spatial


@pytest.mark.slow  # a fresh process (imports torch through accelerate; ~5 s)
def test_the_geocoder_is_not_loaded_when_every_reached_sample_has_an_address(dataset_1000, tmp_path):
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from core.config import Settings\n"
        "from core.evaluation.run import EvaluationConfig, evaluate\n"
        "from tests.integration.test_evaluate_opens_only_used_samples import _MetadataGenerator, _config\n"
        f"report = evaluate(_config(Path({str(dataset_1000)!r}), Path({str(tmp_path / 'out')!r}), 3), "
        f"Settings.from_env().with_(cache_dir=Path({str(tmp_path / 'cache')!r})), generator=_MetadataGenerator())\n"
        "print(json.dumps([report.generated, sorted(m for m in ('reverse_geocode', 'roaring_landmask') "
        "if m in sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [3, []]
