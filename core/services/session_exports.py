"""The app's export folders: one private root per server process, one folder per browser session below it.

A session's folder is named by a random id made here, never by anything the client sends (a session
hash or cookie is only the key of a server-side table), so a client can neither choose nor guess
another session's folder. The root carries the server's pid in its name: a server killed with
SIGKILL leaves it behind, and the next start removes roots whose process is gone.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

ROOT_PREFIX = "ecomapper-app-"
# Sessions one server keeps a folder for (each is small; the table must not grow without bound).
MAX_SESSIONS = 10_000


class SessionExports:
    """Which export folder belongs to which session (by a key the server trusts only as a table key)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._folders: dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(session_key: str) -> str:
        # a digest, so an over-long or odd client value is never a file name and never held whole
        return hashlib.sha256(session_key.encode("utf-8", "surrogatepass")).hexdigest()

    def folder(self, session_key: str) -> Path:
        """The session's folder (made on first use, mode 0700), named by a random id."""
        key = self._key(session_key)
        with self._lock:
            name = self._folders.get(key)
            if name is None:
                if len(self._folders) >= MAX_SESSIONS:
                    self._folders.pop(next(iter(self._folders)))  # the oldest session's files stay on disk
                name = self._folders[key] = secrets.token_hex(16)
        folder = self.root / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def is_export(self, path: str | os.PathLike) -> bool:
        """Whether `path` is inside the export root (what the file route must then check)."""
        return _inside(Path(path), self.root)

    def may_read(self, session_key: str | None, path: str | os.PathLike) -> bool:
        """Whether the session may read `path`: only files of its own folder."""
        if not session_key:
            return False
        with self._lock:
            name = self._folders.get(self._key(session_key))
        return name is not None and _inside(Path(path), self.root / name)

    def remove(self) -> None:
        """Delete every session's files (at exit)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def create_export_root(parent: str | os.PathLike | None = None) -> Path:
    """A private root for this process (mkdtemp: mode 0700, unpredictable), after sweeping dead servers' roots."""
    sweep_leftover_roots(parent)
    return Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-", dir=parent))


def sweep_leftover_roots(parent: str | os.PathLike | None = None) -> list[Path]:
    """Remove export roots of this user whose server process no longer runs; returns what was removed."""
    folder = Path(parent or tempfile.gettempdir())
    removed = []
    for candidate in folder.glob(f"{ROOT_PREFIX}*-*"):
        pid = candidate.name[len(ROOT_PREFIX) :].split("-", 1)[0]
        try:
            owned = candidate.is_dir() and not candidate.is_symlink() and candidate.stat().st_uid == os.getuid()
        except OSError:
            continue
        if owned and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    if removed:
        log.info("removed %d export folder(s) left by stopped servers", len(removed))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except (OverflowError, OSError):
        return False
    return True


def remove_at_exit(exports: SessionExports, *, on_signals: bool = False) -> None:
    """Delete the exports when the process exits; with `on_signals`, at SIGTERM and SIGINT too.

    Python runs no atexit handler when SIGTERM kills it, so the handler removes the folder itself and
    then stops the server as Ctrl-C would (Gradio closes on KeyboardInterrupt). Signals can only be
    set from the main thread: the server start does it, embedded uses (tests) get atexit only.
    """
    atexit.register(exports.remove)
    if not on_signals or threading.current_thread() is not threading.main_thread():
        return

    def stop(signum: int, frame: object) -> None:
        exports.remove()
        log.info("stopping on signal %d; export folder removed", signum)
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
