"""On-disk cache keyed by request: content-addressed files written atomically, with their age and healing.

Entries know how old they are (file modification time), so callers can expire answers about a
month that is not over yet; an entry that does not parse is discarded so that it is fetched again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from core.errors import BadRequestError
from core.io.files import atomic_write_bytes

log = logging.getLogger(__name__)


def request_key(*parts: Any) -> str:
    """A stable hex key for a request made of JSON-serialisable parts."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Sentinel-2 scenes and NASA POWER values of a month keep arriving for a few days after it ends.
MONTH_SETTLE_DAYS = 7


def fresh_month_max_age_s(month: Any, settings: Any, today: date | None = None) -> float | None:
    """How long a cached answer about `month` stays fresh: `settings.fresh_month_ttl_s` while the
    month is not over (plus a few days for late data), None (for good) afterwards."""
    now = today or date.today()
    if now > month.last_day + timedelta(days=MONTH_SETTLE_DAYS):
        return None
    return float(settings.fresh_month_ttl_s)


class CacheFolderError(BadRequestError):
    """The cache folder (ECOMAPPER_CACHE_DIR) cannot be read or written."""


class DiskCache:
    """Bytes stored under `root/<namespace>/<key[:2]>/<key><suffix>`.

    Writes are atomic, so a crash mid-write leaves either the old entry or none.
    """

    def __init__(self, root: str | Path, namespace: str) -> None:
        self.base = Path(root)
        self.root = self.base / namespace

    def path(self, key: str, suffix: str = "") -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def _unusable(self, err: OSError) -> CacheFolderError:
        return CacheFolderError(
            f"The cache folder {self.base} cannot be used ({err.strerror or err}: {err.filename}).",
            "Set ECOMAPPER_CACHE_DIR to a writable folder (or unset it for ~/.cache/ecomapper).",
        )

    def _healed(self, path: Path) -> bool:
        """An entry that became a folder (by hand, by another tool) is removed, so it is fetched again."""
        if path.is_dir() and not path.is_symlink():
            log.warning("the cache entry %s is a folder, not a file; removing it (it will be fetched again)", path)
            shutil.rmtree(path, ignore_errors=True)
            return not path.exists()
        return False

    def get(self, key: str, suffix: str = "") -> bytes | None:
        path = self.path(key, suffix)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError as err:
            if self._healed(path):
                return None
            raise self._unusable(err) from err
        except OSError as err:  # not a folder, no permission: a setting to fix, not a miss
            raise self._unusable(err) from err

    def age_s(self, key: str, suffix: str = "") -> float | None:
        """Seconds since the entry was written, or None when there is none."""
        try:
            return max(0.0, time.time() - self.path(key, suffix).stat().st_mtime)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise self._unusable(err) from err

    def put(self, key: str, data: bytes, suffix: str = "") -> Path:
        path = self.path(key, suffix)
        try:
            if path.is_dir():
                self._healed(path)
            return atomic_write_bytes(path, data)
        except (NotADirectoryError, FileExistsError, PermissionError, IsADirectoryError) as err:
            raise self._unusable(err) from err

    def discard(self, key: str, suffix: str = "", reason: str = "") -> None:
        """Delete an entry (a corrupt one, so that the next call fetches it again)."""
        if reason:
            log.warning("discarding the cache entry %s (%s); it will be fetched again", self.path(key, suffix), reason)
        try:
            self.path(key, suffix).unlink(missing_ok=True)
        except OSError as err:
            raise self._unusable(err) from err

    def get_json(self, key: str) -> Any | None:
        raw = self.get(key, ".json")
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):  # bad JSON or UTF-8, nesting or a number beyond Python's limits
            # A corrupt entry is discarded: the caller fetches it again and overwrites it.
            self.discard(key, ".json", "not valid JSON")
            return None

    def put_json(self, key: str, obj: Any) -> Path:
        return self.put(key, json.dumps(obj, sort_keys=True, default=str).encode("utf-8"), ".json")
