"""Events wired by name: the one place where named values meet Gradio's positional lists.

A handler takes its inputs as keyword arguments named after components (or `**values` with the
names listed at the event) and returns the values it shows as a dataclass or a dict keyed by
component name. `named_event` turns that into the `fn`, `inputs` and `outputs` Gradio wants; the
function it builds has the input names as its parameters, which is what `gradio_client` shows.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gradio as gr

from app.errors import REFUSAL_CLASS, TOAST_S, refusal_line, remember_refusal, take_refusal
from app.layout.components import Components

# Parameters Gradio fills itself (it finds them by annotation or default, and passes every
# argument by position); a handler that names one of them receives it.
_CONTEXT = inspect.Parameter.POSITIONAL_OR_KEYWORD
CONTEXT_PARAMETERS = {
    "request": inspect.Parameter("request", _CONTEXT, annotation=gr.Request),
    "event": inspect.Parameter("event", _CONTEXT, annotation=gr.EventData),
    "progress": inspect.Parameter("progress", _CONTEXT, default=gr.Progress()),
}


def output_names(outputs: Sequence[str] | type) -> tuple[str, ...]:
    """Names of the outputs: a list of names, or the fields of the dataclass the handler returns."""
    if isinstance(outputs, type) and dataclasses.is_dataclass(outputs):
        return tuple(f.name for f in dataclasses.fields(outputs))
    return tuple(outputs)


def named_values(result: Any) -> dict[str, Any]:
    """A handler's result as {component name: value}."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if isinstance(result, Mapping):
        return dict(result)
    raise TypeError(f"A handler returns a dataclass or a dict keyed by component name, not {type(result).__name__}.")


def positional(result: Any, names: tuple[str, ...]) -> Any:
    """Gradio's return value for outputs `names`; a name the handler leaves out keeps its value."""
    if not names:
        return None
    if isinstance(result, Mapping) and "__type__" in result:  # gr.skip(): leave every output as it is
        return result
    values = named_values(result)
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise TypeError(f"The handler returned {unknown}, which are not outputs of this event {list(names)}.")
    ordered = tuple(values[name] if name in values else gr.skip() for name in names)
    return ordered[0] if len(ordered) == 1 else ordered


def _handler_parameters(handler: Callable) -> tuple[set[str], bool, list[str]]:
    """(named parameters, whether it takes **values, the context parameters it asks for)."""
    parameters = inspect.signature(handler).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    context = [name for name in CONTEXT_PARAMETERS if name in parameters]
    named = {name for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    return named - set(context), takes_any, context


def named_event(
    components: Components,
    handler: Callable[..., Any],
    inputs: Sequence[str] | Mapping[str, str] = (),
    outputs: Sequence[str] | type = (),
) -> dict[str, Any]:
    """`fn`, `inputs` and `outputs` for an event listener (`button.click(**named_event(...), ...)`).

    Args:
        components: the page's components.
        handler: called with each input as a keyword argument, plus `request`, `event` or
            `progress` when its signature names them; returns a dataclass or dict keyed by output name.
        inputs: component names, or {parameter name: component name} where the public parameter
            has another name than the component (e.g. `path` for the recipe upload).
        outputs: component names in the order Gradio (and `gradio_client`) returns them, or the
            dataclass the handler returns (its fields, in order).

    Raises:
        TypeError: the handler does not accept one of the inputs (checked when the page is built).
    """
    by_parameter = dict(inputs) if isinstance(inputs, Mapping) else {name: name for name in inputs}
    parameters = list(by_parameter)
    accepted, takes_any, context = _handler_parameters(handler)
    refused = [name for name in parameters if name not in accepted and not takes_any]
    if refused:
        raise TypeError(f"{handler.__qualname__} does not take the inputs {refused}.")
    names = output_names(outputs)

    arguments = parameters + context
    refusal_key = f"{handler.__module__}.{handler.__qualname__}"

    def remember(err: gr.Error) -> None:
        if err.visible:  # kept for the area's line (`show_refusals`); the toast shows it as well
            remember_refusal(refusal_key, err.message)
            if getattr(event_fn, "refusal_line", None):
                err.duration = TOAST_S  # the line keeps the message: the toast closes, off the Cancel buttons

    if inspect.isgeneratorfunction(handler):  # Gradio shows each yielded value as it comes

        def event_fn(*args: Any) -> Any:
            try:
                for result in handler(**dict(zip(arguments, args, strict=True))):
                    yield positional(result, names)
            except gr.Error as err:
                remember(err)
                raise

    else:

        def event_fn(*args: Any) -> Any:
            try:
                return positional(handler(**dict(zip(arguments, args, strict=True))), names)
            except gr.Error as err:
                remember(err)
                raise

    signature = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in parameters]
    signature += [CONTEXT_PARAMETERS[name] for name in context]
    functools.update_wrapper(event_fn, handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    event_fn.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    event_fn.__annotations__ = {name: CONTEXT_PARAMETERS[name].annotation for name in context if name != "progress"}
    event_fn.refusal_key = refusal_key  # type: ignore[attr-defined]
    return {
        "fn": event_fn,
        "inputs": components.pick(by_parameter.values()),
        "outputs": components.pick(names),
    }


# Clear the line in the page at once (no server round trip): its refusal only, or all of it (a run's status line).
_CLEAR_REFUSAL_JS = f"""(line) => (typeof line === "string" && line.includes('class="{REFUSAL_CLASS}"')) ? "" : line"""
_CLEAR_LINE_JS = "() => ''"
_LINE_EVENT = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": None}


def clear_when_started(page: Components, line: str, starts: Sequence[Any], *, whole_line: bool = False) -> None:
    """The area's next action clears the refusal in its `line` (or the whole line) as it starts.

    Wire this before the actions themselves: the page runs the listeners of one click in the order they were
    added, and a later one may only run once the action's own request has been answered (too late).

    Args:
        starts: the triggers of the area's actions (`page["grid_button"].click`, a gr.HTML's own event, ...).
    """
    for start in starts:  # one by one: `gr.on` does not take a gr.HTML's own events (the map's clicks)
        if whole_line:
            start(None, None, page[line], js=_CLEAR_LINE_JS, **_LINE_EVENT)
        else:
            start(None, page[line], page[line], js=_CLEAR_REFUSAL_JS, **_LINE_EVENT)


def show_refusals(page: Components, line: str, events: Sequence[Any]) -> None:
    """Where an area says that its action was refused: in its `line`, until the area's next action starts
    (`clear_when_started`).

    Args:
        page: the page's components.
        line: the name of the area's one-line Markdown (its status or summary line).
        events: the area's events (each wired with `named_event`); a refusal of any of them (a `gr.Error`, the
            message with what was wrong and what to do) is written into `line`, styled as an error. The toast
            shows it too, for `TOAST_S` seconds only; the line stays.
    """

    def shown(key: str) -> Callable[[gr.Request], Any]:
        def refused(request: gr.Request) -> Any:
            message = take_refusal(getattr(request, "session_hash", None), key)
            return refusal_line(message) if message else gr.skip()

        return refused

    for event in events:
        event.fn.refusal_line = line  # read by the event's own function when it is refused
        event.failure(shown(event.fn.refusal_key), None, page[line], **_LINE_EVENT)
