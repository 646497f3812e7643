"""How errors reach the person in front of the app: our own errors as a message with the fix, a
cancelled run as a quiet note (not a red "Error"), anything unexpected logged with its traceback."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import gradio as gr

from core.errors import CancelledError, EcoMapperError

log = logging.getLogger(__name__)

# Server folders whose paths a client must never see (the export root, Gradio's cache): set at start.
_PRIVATE_FOLDERS: list[str] = []


def hide_in_messages(*folders: str | os.PathLike) -> None:
    """Never show these folders in a message to a client (a path inside one shows as its file name only)."""
    for folder in folders:
        for form in {os.fspath(folder), os.path.realpath(folder)}:
            if form not in _PRIVATE_FOLDERS:
                _PRIVATE_FOLDERS.append(form)


def without_server_paths(text: str) -> str:
    """`text` with every path inside a private folder cut to its last part ("…/x.png")."""
    for folder in sorted(_PRIVATE_FOLDERS, key=len, reverse=True):
        text = re.sub(re.escape(folder) + r"[^\s'\"]*", lambda m: "…/" + os.path.basename(m.group(0).rstrip("/")), text)
    return text


def shown_errors(fn: Callable) -> Callable:
    """Turn our errors into `gr.Error` (the message is shown; inputs and earlier outputs stay).

    Expected errors (bad input, no imagery, a service down) are logged as one line without a
    traceback; a cancelled run leaves every output as it was and says so in a toast; anything
    unexpected is logged with its traceback and shown as a short generic message.
    """

    def shown(err: Exception) -> Any:
        """gr.skip() for a cancelled run; a gr.Error for everything else (raised)."""
        if isinstance(err, gr.Error):
            raise err
        if isinstance(err, CancelledError):
            log.info("%s cancelled: %s", fn.__name__, err.problem)
            gr.Info(f"Cancelled. {err.problem}")
            return gr.skip()
        if isinstance(err, EcoMapperError):
            log.info("%s refused: %s", fn.__name__, str(err).replace("\n", " "))
            # Stays on screen until closed (a toast that closed by itself left a textless red badge).
            raise gr.Error(without_server_paths(str(err)), duration=None, print_exception=False) from err
        log.error("unexpected error in %s", fn.__name__, exc_info=err)
        raise gr.Error(
            f"Unexpected error ({type(err).__name__}: {without_server_paths(str(err))}). The details are in the "
            "server log; "
            "please report it with the inputs you used.",
            duration=None,
            print_exception=False,
        ) from err

    if inspect.isgeneratorfunction(fn):  # a handler that shows a first result, then the final one

        @functools.wraps(fn)
        def steps(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:
                yield shown(err)

        return steps

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            return shown(err)

    return wrapper
