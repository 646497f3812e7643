"""How errors reach the person in front of the app: our own errors as a message with the fix, a
cancelled run as a quiet note (not a red "Error"), anything unexpected logged with its traceback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from core.errors import CancelledError, EcoMapperError

log = logging.getLogger(__name__)


def shown_errors(fn: Callable) -> Callable:
    """Turn our errors into `gr.Error` (the message is shown; inputs and earlier outputs stay).

    Expected errors (bad input, no imagery, a service down) are logged as one line without a
    traceback; a cancelled run leaves every output as it was and says so in a toast; anything
    unexpected is logged with its traceback and shown as a short generic message.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except CancelledError as err:
            log.info("%s cancelled: %s", fn.__name__, err.problem)
            gr.Info(f"Cancelled. {err.problem}")
            return gr.skip()
        except EcoMapperError as err:
            log.info("%s refused: %s", fn.__name__, str(err).replace("\n", " "))
            # Stays on screen until closed (a toast that closed by itself left a textless red badge).
            raise gr.Error(str(err), duration=None, print_exception=False) from err
        except Exception as err:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(
                f"Unexpected error ({type(err).__name__}: {err}). The details are in the server log; "
                "please report it with the inputs you used.",
                duration=None,
                print_exception=False,
            ) from err

    return wrapper
