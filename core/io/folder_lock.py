"""One run at a time per output folder (training, evaluation, dataset build).

Two trainers on one folder interleave `loss.csv` and delete each other's checkpoints. A run holds an
advisory lock (`fcntl.flock`) on `<folder>/.ecomapper.lock` for its whole life; the file holds the
holder's pid so a second run can say who has it. The kernel drops the lock when the holder dies (even by
SIGKILL), so a stale file of a dead process is simply taken over; the temporaries such a run left are
removed then.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from core.errors import BadRequestError
from core.io.files import remove_stale_temporaries
from core.io.outputs import check_output_dir

log = logging.getLogger(__name__)

LOCK_NAME = ".ecomapper.lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str, part: str | None = None) -> Iterator[Path]:
    """Hold the folder's lock while the block runs (the folder is created if needed).

    Args:
        part: for runs made of several processes by design (torchrun, `accelerate launch`): each process
            locks its own part, so a second run is refused while the processes of one run work together.
            Default: the process's rank (`RANK`, set by torchrun and accelerate), none when run plainly.

    Args:
        what: the option that named the folder, for messages ("--out", "output_dir").

    Raises:
        BadRequestError: another live process holds it (the message names its pid), or `folder` is a file.
    """
    target = check_output_dir(folder, what)  # a file in the way is named with its option, not "File exists"
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    part = os.environ.get("RANK", "") if part is None else part
    # rank 0 takes the plain lock, so a plain run and a distributed one on one folder exclude each other too
    path = target / (f"{LOCK_NAME}.{part}" if part not in ("", "0") else LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise BadRequestError(
                f"{what} {target} is in use by another run (pid {holder}).",
                "Wait for it to finish, stop it, or give another output folder.",
            ) from err
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        stale = remove_stale_temporaries(target)  # a killed run's half-written files; nobody else writes here now
        if stale:
            log.info("removed %d temporary file(s) left by an interrupted run in %s", len(stale), target)
        try:
            yield target
        finally:
            os.ftruncate(fd, 0)
            if created and [p.name for p in target.iterdir()] == [path.name]:
                # the run was refused before writing anything: leave no folder behind
                path.unlink()
                target.rmdir()
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
