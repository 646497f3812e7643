"""On-disk cache keyed by request: content-addressed files written atomically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.files import atomic_write_bytes


def request_key(*parts: Any) -> str:
    """A stable hex key for a request made of JSON-serialisable parts."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DiskCache:
    """Bytes stored under `root/<namespace>/<key[:2]>/<key><suffix>`.

    Writes are atomic, so a crash mid-write leaves either the old entry or none.
    """

    def __init__(self, root: str | Path, namespace: str) -> None:
        self.root = Path(root) / namespace

    def path(self, key: str, suffix: str = "") -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str, suffix: str = "") -> bytes | None:
        try:
            return self.path(key, suffix).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, data: bytes, suffix: str = "") -> Path:
        return atomic_write_bytes(self.path(key, suffix), data)

    def get_json(self, key: str) -> Any | None:
        raw = self.get(key, ".json")
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            # A corrupt entry is treated as missing and will be overwritten.
            return None

    def put_json(self, key: str, obj: Any) -> Path:
        return self.put(key, json.dumps(obj, sort_keys=True, default=str).encode("utf-8"), ".json")
