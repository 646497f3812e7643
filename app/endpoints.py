"""A Gradio event function whose public parameters are a form's field names.

Gradio names an endpoint's parameters after the function's signature (what `gradio_client` users
pass as keywords). `form_endpoint` builds that signature from a form's `FIELDS`, so the handler
receives one parsed form instead of a long positional list, and the API names stay documented.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gradio as gr


def form_endpoint(fields: tuple[str, ...], handler: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`handler(values: dict, request, progress)` exposed as `name(<fields...>, request, progress)`.

    Args:
        fields: the public parameter names, in the order of the event's input widgets.
        handler: receives the field values as a dict, the `gr.Request` and a `gr.Progress`.
        name: the function name Gradio shows (and logs).
    """

    def endpoint(*args: Any) -> Any:
        *values, request, progress = args
        return handler(dict(zip(fields, values, strict=True)), request, progress)

    parameters = [inspect.Parameter(field, inspect.Parameter.POSITIONAL_OR_KEYWORD) for field in fields]
    parameters.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request))
    parameters.append(inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress()))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__annotations__ = {"request": gr.Request}
    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint
