"""How a long run reports progress and stops when asked: one callback type and one step check for every
sampler (the engine's pipeline calls, FlowEdit, regions, the peer generators)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.errors import CancelledError

# progress(done, total, text): what the app's bar and the CLI's tqdm show
ProgressCallback = Callable[[int, int, str], None]


def report_or_cancel(
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    done: int,
    total: int,
    text: str,
    cancelled: str,
) -> None:
    """Report `done` of `total` with `text`, then raise `CancelledError(cancelled)` when `cancel` is set."""
    if progress is not None:
        progress(done, total, text)
    if cancel is not None and cancel.is_set():
        raise CancelledError(cancelled, "Start it again when ready.")
