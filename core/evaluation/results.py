"""The evaluation's per-sample results on disk: append-only JSON lines and one feature file per sample.

Each process appends to its own `results/part-<rank>.jsonl` (one `write` per complete line, then
fsync), so a crash loses at most the sample being written; a torn last line is ignored on reading
and the next append starts on a new line. Inception features go to `features/<key>.npz`, written
atomically before the line that refers to them; a line whose feature file is missing counts as not done.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from core.io.files import atomic_write_bytes
from core.io.safe_names import safe_name

log = logging.getLogger(__name__)

RESULTS_DIRNAME = "results"
FEATURES_DIRNAME = "features"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_READABLE_CHARS = 120
MAX_KEY_CHARS = _READABLE_CHARS + 2 + 12  # readable part, "__", digest


def result_key(model_label: str, mode: str, sample_id: str, settings_key: str = "") -> str:
    """A stable file-safe key for one (model, mode, sample, settings) result.

    `settings_key` (see `settings_key`) holds everything else that changes the pixels, so a rerun
    into the same folder with other steps, size, guidance, seed or weights recomputes.
    """
    readable = _UNSAFE.sub("_", f"{model_label}__{mode}__{sample_id}")[:_READABLE_CHARS]
    # a key names files under results/, features/ and images/: no ".." and no leading '.', '_' or '-'
    readable = re.sub(r"\.{2,}", ".", readable).lstrip("._-") or "key"
    digest = hashlib.sha256(f"{model_label}\0{mode}\0{sample_id}\0{settings_key}".encode()).hexdigest()[:12]
    return safe_name(f"{readable}__{digest}", "result key", underscore=True, max_chars=MAX_KEY_CHARS)


def settings_key(**settings: Any) -> str:
    """A short digest of the generation settings of a run (model, weights, steps, size, guidance, seed...)."""
    canonical = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (np.floating, np.integer)):
        return _json_safe(value.item())
    return value


def _from_json(value: Any) -> Any:
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    return value


class ResultStore:
    """Per-sample results of an evaluation output folder."""

    def __init__(self, out_dir: str | Path, rank: int = 0) -> None:
        self.out_dir = Path(out_dir)
        self.results_dir = self.out_dir / RESULTS_DIRNAME
        self.features_dir = self.out_dir / FEATURES_DIRNAME
        self.part_path = self.results_dir / f"part-{rank}.jsonl"

    def features_path(self, key: str) -> Path:
        return self.features_dir / f"{safe_name(key, 'result key', underscore=True, max_chars=MAX_KEY_CHARS)}.npz"

    def image_path(self, key: str) -> Path:
        """Where `save_images` puts the generated image of `key` (checked: a key never leaves images/)."""
        return self.out_dir / "images" / f"{safe_name(key, 'result key', underscore=True, max_chars=MAX_KEY_CHARS)}.png"

    def write_features(self, key: str, real: np.ndarray, fake: np.ndarray) -> Path:
        buffer = io.BytesIO()
        np.savez(buffer, real=np.asarray(real, np.float32), fake=np.asarray(fake, np.float32))
        return atomic_write_bytes(self.features_path(key), buffer.getvalue())

    def read_features(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.features_path(key)
        if not path.is_file():
            return None
        with np.load(path) as data:
            return data["real"], data["fake"]

    def append(self, record: dict[str, Any]) -> None:
        """Append one record as one complete line (one write call, then fsync)."""
        line = json.dumps({k: _json_safe(v) for k, v in record.items()}, sort_keys=True) + "\n"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.part_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            # A crash mid-write leaves a torn last line without its newline; start on a fresh line so
            # this record is not glued to the fragment and lost with it.
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def read_all(self) -> list[dict[str, Any]]:
        """Every complete record of every process; the latest record wins per key."""
        records: dict[str, dict[str, Any]] = {}
        for part in sorted(self.results_dir.glob("part-*.jsonl")):
            for number, line in enumerate(part.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("ignoring a torn line %d in %s (an interrupted write)", number, part)
                    continue
                if isinstance(record, dict) and "key" in record:
                    records[record["key"]] = {k: _from_json(v) for k, v in record.items()}
        return sorted(records.values(), key=lambda r: r["key"])

    def finished_keys(self, required_metrics: Iterable[str], needs_features: bool) -> set[str]:
        """Keys whose record has every required metric (and its feature file when FID is on)."""
        required = tuple(required_metrics)
        done = set()
        for record in self.read_all():
            if any(record.get(name) is None for name in required):
                continue
            if needs_features and not self.features_path(record["key"]).is_file():
                continue
            done.add(record["key"])
        return done
