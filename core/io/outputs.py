"""Output paths checked before any work: a file is not a folder, its folder can be made and written, the disk has room.

Commands call these first, so a bad `--out` fails in a second with one line instead of after
minutes of generating (and without leaving half the outputs behind).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from core.errors import BadRequestError

# Free space kept on top of an output's estimate (logs, temporary files, the OS).
DISK_MARGIN_BYTES = 64 * 1024 * 1024


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def _check_folder_creatable(folder: Path, what: str) -> None:
    """`folder` exists as a writable folder, or can be created under one."""
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise BadRequestError(
            f"{what}: {ancestor} is a file, so the folder {folder} cannot be made.",
            "Choose a path whose parent folders are folders.",
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise BadRequestError(f"{what}: the folder {ancestor} is not writable.", "Choose a folder you can write to.")


def check_output_file(path: str | os.PathLike, what: str, suffixes: Iterable[str] | None = None) -> Path:
    """Raise BadRequestError unless a file can be written at `path` (with one of `suffixes`, if given).

    Args:
        path: the file to be written (it may exist: it is replaced).
        what: the option that named it, for the message ("--out").
        suffixes: allowed extensions, lower case with the dot (the format follows the extension).
    """
    target = Path(path)
    if suffixes is not None:
        allowed = tuple(suffixes)
        if target.suffix.lower() not in allowed:
            raise BadRequestError(
                f"{what} {target.name!r} does not end in {' or '.join(allowed)}; the format follows the extension.",
                f"Name the file *{allowed[0]}"
                + (f" (or {', '.join('*' + s for s in allowed[1:])})." if allowed[1:] else "."),
            )
    if target.is_dir():
        raise BadRequestError(f"{what} {target} is a folder, not a file.", "Give a file path.")
    if target.exists() and not os.access(target, os.W_OK):
        raise BadRequestError(f"{what} {target} exists and is not writable.", "Choose another file or fix its rights.")
    _check_folder_creatable(target.parent, what)
    return target


def check_output_dir(path: str | os.PathLike, what: str) -> Path:
    """Raise BadRequestError unless `path` is (or can become) a writable folder."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise BadRequestError(f"{what} {target} is a file, not a folder.", "Give a folder path.")
    _check_folder_creatable(target, what)
    return target


def check_free_disk(path: str | os.PathLike, needed_bytes: int, what: str) -> None:
    """Raise BadRequestError when the disk holding `path` has less than `needed_bytes` (plus a margin) free."""
    where = _existing_ancestor(Path(path))
    free = shutil.disk_usage(where if where.is_dir() else where.parent).free
    if free < needed_bytes + DISK_MARGIN_BYTES:
        raise BadRequestError(
            f"{what}: about {_mb(needed_bytes)} are needed but only {_mb(free)} are free on the disk of {where}.",
            "Free some space or write somewhere else.",
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def estimated_png_bytes(size_px: int, count: int = 1) -> int:
    """A generous size of `count` RGB PNGs of side `size_px` (uncompressed RGB: PNG never exceeds it by much)."""
    return count * (3 * size_px * size_px + 64 * 1024)
