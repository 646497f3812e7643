"""The app's layers, checked on the source (AST; imports inside functions count too):

app.py, app.ui -> app.layout -> app.handlers -> the rest of app (forms, formatting, state, ...) -> core.services.
Nothing imports a layer above its own, the app's modules form no import cycle, the app never
imports the model libraries, and no function of the app is over 120 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

HEAVY = ("torch", "diffusers", "transformers", "peft", "accelerate", "core.models")
MAX_FUNCTION_LINES = 120


def layer_of(module: str) -> int:
    """0 for the package itself, then the layers from the bottom up."""
    if module == "app":
        return 0
    if module.startswith("app.handlers"):
        return 2
    if module.startswith("app.layout"):
        return 3
    if module in ("app.ui", "app.py", "app.__main__"):  # the entry points: `python app.py`, `python -m app`
        return 4
    return 1


def module_name(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    if relative == Path("app"):  # the start script beside the package
        return "app.py"
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(tree: ast.AST) -> list[str]:
    """Every module an AST imports, anywhere (`from app import forms` is `app.forms`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, "the app imports absolutely"
            found += [f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                      for a in node.names]  # fmt: skip
    return found


def app_graph(sources: dict[str, ast.AST]) -> dict[str, set[str]]:
    """module -> the app modules it imports (importing `app.x.y` runs `app.x` and `app` too)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, tree in sources.items():
        for target in imported(tree):
            parts = target.split(".")
            if parts[0] != "app":
                continue
            graph[name] |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _sources() -> dict[str, ast.AST]:
    paths = [*(REPO / "app").rglob("*.py"), REPO / "app.py"]
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(paths)}


def test_the_checks_find_a_cycle_an_upward_import_and_imports_inside_functions():
    tree = ast.parse("def later():\n    from app.layout import wiring\n    import torch\n")
    assert imported(tree) == ["app.layout.wiring", "torch"]
    graph = app_graph({"app.handlers.point": tree, "app.layout.wiring": ast.parse("import app.handlers.point")})
    assert cycles(graph) == [["app.handlers.point", "app.layout.wiring"]]
    assert layer_of("app.handlers.point") < layer_of("app.layout.wiring")


def test_the_app_modules_import_no_cycle_and_nothing_from_a_layer_above():
    graph = app_graph(_sources())
    assert len(graph) > 30 and "app.layout.wiring" in graph["app.layout.page"]
    assert cycles(graph) == []
    upward = [f"{a} -> {b}" for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a)]
    assert upward == []


def test_the_app_never_imports_the_model_libraries_not_even_inside_a_function():
    heavy = [
        f"{name}: {module}"
        for name, tree in _sources().items()
        for module in imported(tree)
        if any(module == h or module.startswith(h + ".") for h in HEAVY)
    ]
    assert heavy == []


def test_no_function_of_the_app_is_over_120_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in _sources().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
