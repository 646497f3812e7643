"""How errors reach the person in front of the app: our own errors as a message with the fix, a
cancelled run as a quiet note (not a red "Error"), anything unexpected logged with its traceback."""

from __future__ import annotations

import functools
import html
import inspect
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.context import LocalContext

from core.errors import CancelledError, EcoMapperError

log = logging.getLogger(__name__)

# Seconds a toast stays. A note (busy, cancelled) or a warning is said in its area too, and so is a refusal whose
# area has a line for it (`app.layout.events.show_refusals`): their toasts close by themselves, so a stack of them
# does not stay over the Cancel buttons. A refusal with no such line stays until closed (`duration=None` below).
TOAST_S = 8

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
            gr.Info(f"Cancelled. {err.problem}", duration=TOAST_S)
            return gr.skip()
        if isinstance(err, EcoMapperError):
            log.info("%s refused: %s", fn.__name__, str(err).replace("\n", " "))
            # Stays on screen until closed (a toast that closed by itself left a textless red badge), unless the
            # area's line keeps the message (`named_event` shortens it then).
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


# ---- refusals shown where they happened ---------------------------------------------------------------------
# A refused event cannot change its own outputs (Gradio keeps them as they were), so its message is kept here
# for the event's failure listener, which writes it into the area's line (`app.layout.events.show_refusals`).

REFUSAL_CLASS = "refusal"
_KEPT_REFUSALS = 256  # events refused with no listener to take them (quick private events) are dropped oldest first
_refusals: OrderedDict[tuple[str, str], str] = OrderedDict()
_refusals_lock = threading.Lock()


def remember_refusal(event_key: str, message: str) -> None:
    """Keep the message of the running event's refusal for its session (read by `take_refusal`)."""
    # Gradio's own context of the running event (what gr.Info / gr.Warning use to find the session)
    request = LocalContext.request.get(None)
    session = getattr(request, "session_hash", None)
    if session is None:
        return  # called outside an event (a direct call, a test): nobody to show it to
    with _refusals_lock:
        _refusals[(session, event_key)] = message
        _refusals.move_to_end((session, event_key))
        while len(_refusals) > _KEPT_REFUSALS:
            _refusals.popitem(last=False)


def take_refusal(session: str | None, event_key: str) -> str | None:
    """The message of the session's last refusal of that event, once (None when there is none)."""
    with _refusals_lock:
        return _refusals.pop((session or "", event_key), None)


def refusal_line(message: str) -> str:
    """A refusal as the area's one line (Markdown), styled as an error by the page's CSS.

    The message is plain text (a place name typed by the person may be in it): escaped for HTML and Markdown.
    """
    text = re.sub(r"([\\`*_\[\]#|~<>&])", r"\\\1", " ".join(message.split()))
    tooltip = html.escape(" ".join(message.split()), quote=True)
    return f'<span class="{REFUSAL_CLASS}" title="{tooltip}">⚠️ {text}</span>'
