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

    if inspect.isgeneratorfunction(handler):  # Gradio shows each yielded value as it comes

        def event_fn(*args: Any) -> Any:
            for result in handler(**dict(zip(arguments, args, strict=True))):
                yield positional(result, names)

    else:

        def event_fn(*args: Any) -> Any:
            return positional(handler(**dict(zip(arguments, args, strict=True))), names)

    signature = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in parameters]
    signature += [CONTEXT_PARAMETERS[name] for name in context]
    functools.update_wrapper(event_fn, handler, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
    event_fn.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    event_fn.__annotations__ = {name: CONTEXT_PARAMETERS[name].annotation for name in context if name != "progress"}
    return {
        "fn": event_fn,
        "inputs": components.pick(by_parameter.values()),
        "outputs": components.pick(names),
    }
