"""Cancel and the status line under Generate, shared by every generating tab."""

from __future__ import annotations

import gradio as gr

from app.handlers.context import AppContext, session_of


class RunHandlers:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def cancel(self, request: gr.Request) -> dict[str, str]:
        """The Cancel button: ask the running job of this session to stop (core checks between steps)."""
        if self.context.cancels.cancel(session_of(request)):
            return {"status": "Cancel requested: the run stops after its current step."}
        return {"status": "Nothing is running."}


def clear_status() -> dict[str, str]:
    """A new run starts with an empty status line (no "Cancel requested" left from the last one)."""
    return {"status": ""}
