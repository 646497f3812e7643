"""Atomic file writes: a reader never sees a half-written file, whatever happens mid-write."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, new_file_mode())  # mkstemp makes 0600; an output is made as open() would make it
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A fresh temporary path beside `path` (same filesystem), for writers that need a file name.

    Write to it, then `os.replace(tmp, path)`; delete it on failure.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # ".x.<random>.tmp.png": still ends in the extension GDAL / ffmpeg / PIL read the format from
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    try:
        os.fchmod(fd, new_file_mode())
    finally:
        os.close(fd)
    return Path(tmp_name)


def new_file_mode() -> int:
    """The mode `open()` gives a new file: 0666 less the process's umask (0644 with the usual 022)."""
    return 0o666 & ~_umask()


def _umask() -> int:
    # Linux reports it without changing it; elsewhere set-and-restore (a moment, under the GIL)
    # no /proc (macOS) or an old kernel without the line: fall through
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# what atomic_write_bytes (".name.<random>.tmp") and temporary_sibling (".stem.<random>.tmp.ext") leave
_TEMPORARY = re.compile(r"^\..+\.tmp(\.[A-Za-z0-9]+)?$")


def remove_stale_temporaries(folder: str | os.PathLike, older_than_s: float = 120.0) -> list[Path]:
    """Delete temporaries a killed writer left under `folder` (call it while holding the folder's lock).

    Only files older than `older_than_s` go: a process of the same run that started a moment earlier
    (another rank) may be writing one right now.
    """
    cutoff = time.time() - older_than_s
    removed = []
    for path in Path(folder).rglob(".*.tmp*"):
        try:
            if _TEMPORARY.match(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone meanwhile, or not ours to delete: the run goes on
    return removed


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling of `path` for writers that need a file name (GDAL, ffmpeg, PIL).

    The block writes to the yielded path; when it succeeds the file is renamed onto `path`, when
    it raises the temporary file is deleted, so `path` is either the old file or the whole new one.
    """
    target = Path(path)
    tmp = temporary_sibling(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
