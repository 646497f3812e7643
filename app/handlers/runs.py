"""Cancel and the status line under Generate, shared by every generating tab.

A click on a generating button while a run is going is not dropped: the event waits for the one
generation slot (each such click runs in turn when the current run ends) and the person is told so."""

from __future__ import annotations

import gradio as gr

from app.errors import TOAST_S
from app.handlers.context import AppContext, session_of


class RunHandlers:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def cancel(self, request: gr.Request) -> dict[str, str]:
        """The Cancel button: ask the running job of this session to stop (core checks between steps)."""
        if self.context.cancels.cancel(session_of(request)):
            return {"status": "Cancel requested: the run stops after its current step."}
        return {"status": "Nothing is running."}

    def run_clicked(self, request: gr.Request) -> dict[str, str]:
        """A generating button was clicked: "busy" (a toast and the line) when this session's last run is still
        going and this one waits for it; else nothing (the page has emptied the line at the click already, so
        this answer, which may come after a quick refusal of the run, never wipes that refusal)."""
        if self.context.cancels.running(session_of(request)):
            gr.Info(BUSY, duration=TOAST_S)
            return {"status": f"⏳ {BUSY}"}
        return {}


BUSY = "Busy: a run is going. Your click runs when it ends (Cancel stops the current run)."
