"""The architecture, checked on the source (AST; imports inside functions count too):

- `app` uses of `core` only the service layer and plain value types (ALLOWED_FOR_APP);
- neither `app` nor `core/commands/` imports model-side code (MODEL_SIDE), not even inside a function;
- a data source (`core/sources/`) never imports the models (`core.models`);
- `core` never imports gradio;
- no import cycle among the modules of `core/` and `app/`;
- at most MAX_CORE_TOP_LEVEL_MODULES modules at the top of `core/`, at most MAX_REQUEST_CLASSES
  classes named `*Request`, no function longer than MAX_FUNCTION_LINES lines.

Every check has a small synthetic case that proves it fails where it should.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# What the app may import from core: the service layer (and its submodules) and plain value types.
# The same list is in docs/architecture.md ("Service layer").
APP_MAY_IMPORT_PREFIX = "core.services"
ALLOWED_FOR_APP = frozenset(
    {
        "core.climate.scenario",
        "core.export.provenance",
        "core.geo",
        "core.climate.values",
        "core.sources.land_cover_classes",
        "core.errors",
        "core.config",
        "core.model_policy",  # a value carried in Settings: what the server's operator allows
        "core.limits",  # the one limits table: the app refuses what the CLI refuses, before work
    }
)
# What only the model side (generators, engine, training, metrics) may import: app/ and the CLI
# commands reach it through core.services (issue 19, "one path").
MODEL_SIDE = ("core.models", "core.metrics", "core.train", "torch", "diffusers", "transformers", "peft", "accelerate")
MAX_CORE_TOP_LEVEL_MODULES = 8  # entry points, config, errors, limits, geo, model policy
MAX_REQUEST_CLASSES = 4  # one request model; the others compose it (a base request + what varies)
MAX_FUNCTION_LINES = 120  # a longer routine reads as numbered steps, each a named helper
def _imported_by_name(node: ast.AST) -> str | None:
    """The module of `importlib.import_module("...")` / `__import__("...")`, else None."""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import anywhere in `tree`, `importlib.import_module("...")` included.

    `from core import services` counts as `core.services`; `from core.geo import Point` as `core.geo`.
    Relative imports (inside the importing package) are left out.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "core":
                found += [(node.lineno, f"core.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif (by_name := _imported_by_name(node)) is not None:
            found.append((node.lineno, by_name))
    return found


def app_violations(tree: ast.AST, name: str) -> list[str]:
    wrong = []
    for line, module in imported_modules(tree):
        if module != "core" and not module.startswith("core."):
            continue
        if module == APP_MAY_IMPORT_PREFIX or module.startswith(APP_MAY_IMPORT_PREFIX + "."):
            continue
        if module not in ALLOWED_FOR_APP:
            wrong.append(f"{name}:{line}: {module}")
    return wrong


def source_violations(tree: ast.AST, name: str) -> list[str]:
    return [
        f"{name}:{line}: {module}"
        for line, module in imported_modules(tree)
        if module == "core.models" or module.startswith("core.models.")
    ]


def gradio_violations(tree: ast.AST, name: str) -> list[str]:
    return [f"{name}:{line}: {module}" for line, module in imported_modules(tree) if module.split(".")[0] == "gradio"]


def model_side_violations(tree: ast.AST, name: str) -> list[str]:
    return [
        f"{name}:{line}: {module}"
        for line, module in imported_modules(tree)
        if any(module == side or module.startswith(side + ".") for side in MODEL_SIDE)
    ]


# --- the import graph: module name -> {imported module: first line}, runtime imports only ---


def module_name(path: Path, root: Path) -> str:
    """`core/models/loading.py` -> `core.models.loading`; a package is its `__init__`; `app.py` stays `app.py`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if len(parts) == 1 and parts[0] == "app":
        return "app.py"  # the start script, beside the `app` package it would otherwise shadow
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of `tree` except the bodies of `if TYPE_CHECKING:` (never run, so no import edge)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _imports_of(name: str, tree: ast.AST, is_package: bool) -> list[tuple[int, tuple[str, ...]]]:
    """(line, candidates) of the runtime imports of module `name`, relative imports resolved.

    An import is of its first candidate that is a module: `from pkg import x` is an import of
    `pkg.x` when that is a module, else of `pkg`. A module that imports from its own package
    (`from pkg import x` inside `pkg.sub`) also imports `pkg` itself, i.e. runs the package's `__init__`.
    """
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[int, tuple[str, ...]]] = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, (alias.name,)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            found += [(node.lineno, (f"{base}.{alias.name}", base)) for alias in node.names]
            if name.startswith(base + "."):
                found.append((node.lineno, (base,)))
        elif (by_name := _imported_by_name(node)) is not None:
            found.append((node.lineno, (by_name,)))
    return found


def import_graph(modules: dict[str, tuple[ast.AST, bool]]) -> dict[str, dict[str, int]]:
    """Edges between the given modules: {module: {imported module: line}}; outside imports are dropped.

    Args:
        modules: module name -> (parsed source, whether it is a package's `__init__`).
    """

    def known(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    graph: dict[str, dict[str, int]] = {}
    for name, (tree, is_package) in modules.items():
        edges: dict[str, int] = {}
        for line, candidates in _imports_of(name, tree, is_package):
            hit = next((c for c in candidates if c in modules), None) or known(candidates[-1])
            if hit is not None and hit != name:
                edges.setdefault(hit, line)
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[str]:
    """Each cycle (strongly connected set of modules) as "a:line -> b, b:line -> a", sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(
        ", ".join(f"{a}:{graph[a][b]} -> {b}" for a in component for b in sorted(graph[a]) if b in component)
        for component in components
    )


def _modules_under(root: Path, *folders: str, scripts: tuple[str, ...] = ()) -> dict[str, tuple[ast.AST, bool]]:
    paths = [p for folder in folders for p in (root / folder).rglob("*.py")] + [root / s for s in scripts]
    return {module_name(p, root): (ast.parse(p.read_text(), str(p)), p.name == "__init__.py") for p in sorted(paths)}


def _project_modules() -> dict[str, tuple[ast.AST, bool]]:
    return _modules_under(REPO, "core", "app", scripts=("app.py",))


def _is_app(name: str) -> bool:
    return name in ("app", "app.py") or name.startswith("app.")


# --- size limits ---


def top_level_modules(package_dir: Path) -> list[str]:
    return sorted(p.name for p in package_dir.glob("*.py"))


def request_classes(tree: ast.AST, name: str) -> list[str]:
    return [
        f"{name}:{node.lineno}: {node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name.endswith("Request")
    ]


def long_functions(tree: ast.AST, name: str, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions and methods (nested ones too) longer than `limit` lines, from `def` to the last line."""
    return [
        f"{name}:{node.lineno}: {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > limit
    ]


def _parsed(paths: list[Path]) -> list[tuple[str, ast.AST]]:
    return [(str(p.relative_to(REPO)), ast.parse(p.read_text(), str(p))) for p in sorted(paths)]


def test_the_checks_see_imports_inside_functions_and_by_name():
    tree = ast.parse(
        "import importlib\n"
        "from core import services, generate\n"
        "from core.geo import Point\n"
        "def handler():\n"
        "    from core.models.engine import Engine\n"
        "    import gradio as gr\n"
        "    return importlib.import_module('core.export.image_files')\n"
        "class H:\n"
        "    def m(self):\n"
        "        import core.sources.imagery\n"
    )
    assert sorted(app_violations(tree, "x.py")) == [
        "x.py:10: core.sources.imagery",
        "x.py:2: core.generate",
        "x.py:5: core.models.engine",
        "x.py:7: core.export.image_files",
    ]
    assert source_violations(tree, "x.py") == ["x.py:5: core.models.engine"]
    assert gradio_violations(tree, "x.py") == ["x.py:6: gradio"]
    assert sorted(model_side_violations(tree, "x.py")) == ["x.py:5: core.models.engine"]


def test_app_imports_only_the_service_layer_and_value_types():
    app_files = [*(REPO / "app").rglob("*.py"), REPO / "app.py"]
    wrong = [v for name, tree in _parsed(app_files) for v in app_violations(tree, name)]
    assert wrong == []


def test_data_sources_never_import_the_models():
    sources = list((REPO / "core" / "sources").rglob("*.py"))
    assert sources, "core/sources/ is where the data sources live"
    assert [v for name, tree in _parsed(sources) for v in source_violations(tree, name)] == []


def test_core_never_imports_gradio():
    core_files = list((REPO / "core").rglob("*.py"))
    assert [v for name, tree in _parsed(core_files) for v in gradio_violations(tree, name)] == []


def test_the_service_layer_is_importable_by_the_app_without_model_libraries():
    import json
    import subprocess
    import sys

    probe = (
        "import json, sys, core.services\n"
        "print(json.dumps(sorted(m for m in ('torch', 'diffusers', 'transformers', 'gradio') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# --- import cycles ---


def _synthetic(sources: dict[str, str]) -> dict[str, tuple[ast.AST, bool]]:
    """Module name (a trailing `/` marks a package `__init__`) -> source, parsed as `_project_modules` does."""
    return {name.rstrip("/"): (ast.parse(text), name.endswith("/")) for name, text in sources.items()}


def test_the_cycle_check_sees_own_package_imports_function_imports_and_relative_imports():
    # The shape of the old core.models <-> core.models.loading: the package re-exports from a
    # submodule, and the submodule imports a sibling through the package.
    through_package = _synthetic(
        {
            "pkg/": "from pkg.loading import load\n",
            "pkg.loading": "from pkg import formats\ndef load(): return formats\n",
            "pkg.formats": "X = 1\n",
        }
    )
    assert import_cycles(import_graph(through_package)) == ["pkg:1 -> pkg.loading, pkg.loading:1 -> pkg"]
    # The old core.train <-> core.train.loop: the package imports the submodule inside a function.
    lazy = _synthetic(
        {
            "pkg/": "def train():\n    from pkg.loop import run\n    return run()\n",
            "pkg.loop": "from . import config\ndef run(): return config\n",
            "pkg.config": "",
        }
    )
    assert import_cycles(import_graph(lazy)) == ["pkg:2 -> pkg.loop, pkg.loop:1 -> pkg"]
    three = _synthetic(
        {
            "a": "import b\n",
            "b": "class B:\n    def m(self):\n        import importlib\n        return importlib.import_module('c')\n",
            "c": "from a import thing\n",
        }
    )
    assert import_cycles(import_graph(three)) == ["a:1 -> b, b:4 -> c, c:1 -> a"]


def test_the_cycle_check_accepts_sibling_imports_and_type_checking_imports():
    fixed = _synthetic(
        {
            "pkg/": "from pkg.loading import load\n",
            "pkg.loading": "import pkg.formats as formats\nfrom pkg.spec import Spec\ndef load(): return formats\n",
            "pkg.formats": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.loading import load\n",
            "pkg.spec": "import torch\nclass Spec: ...\n",
        }
    )
    graph = import_graph(fixed)
    assert graph == {
        "pkg": {"pkg.loading": 1},
        "pkg.loading": {"pkg.formats": 1, "pkg.spec": 2},
        "pkg.formats": {},  # the TYPE_CHECKING import never runs
        "pkg.spec": {},  # torch is outside the graph
    }
    assert import_cycles(graph) == []


def test_module_names_follow_the_import_system(tmp_path):
    for relative in ("core/__init__.py", "core/models/__init__.py", "core/models/loading.py", "app.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    names = sorted(_modules_under(tmp_path, "core", scripts=("app.py",)))
    assert names == ["app.py", "core", "core.models", "core.models.loading"]


def test_core_has_no_import_cycles():
    modules = _project_modules()
    assert "core.models.loading" in modules and "app.handlers" in modules
    core_only = {name: parsed for name, parsed in modules.items() if not _is_app(name)}
    assert import_cycles(import_graph(core_only)) == []


def test_app_has_no_import_cycles():
    assert import_cycles(import_graph(_project_modules())) == []


# --- model-side code only behind core.services ---


def test_app_never_imports_model_side_code():
    app_files = [*(REPO / "app").rglob("*.py"), REPO / "app.py"]
    assert [v for name, tree in _parsed(app_files) for v in model_side_violations(tree, name)] == []


def test_cli_commands_never_import_model_side_code():
    commands = list((REPO / "core" / "commands").rglob("*.py"))
    assert commands, "core/commands/ holds one file per CLI command"
    assert [v for name, tree in _parsed(commands) for v in model_side_violations(tree, name)] == []


def test_the_model_side_check_sees_every_model_library_and_package():
    tree = ast.parse(
        "import torch.nn as nn\n"
        "from core import metrics\n"
        "from core.services import generate\n"
        "from core.models_catalog import X\n"
        "def run():\n"
        "    from core.train.loop import train\n"
        "    import diffusers, transformers\n"
        "    from peft import LoraConfig\n"
        "    import accelerate\n"
        "    return importlib.import_module('core.models.engine')\n"
    )
    assert model_side_violations(tree, "cmd.py") == [
        "cmd.py:1: torch.nn",
        "cmd.py:2: core.metrics",
        "cmd.py:6: core.train.loop",
        "cmd.py:7: diffusers",
        "cmd.py:7: transformers",
        "cmd.py:8: peft",
        "cmd.py:9: accelerate",
        "cmd.py:10: core.models.engine",
    ]


# --- sizes ---


def test_the_top_level_check_counts_modules_not_packages(tmp_path):
    for index in range(MAX_CORE_TOP_LEVEL_MODULES + 1):
        (tmp_path / f"m{index}.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "__init__.py").write_text("")
    assert len(top_level_modules(tmp_path)) == MAX_CORE_TOP_LEVEL_MODULES + 1 > MAX_CORE_TOP_LEVEL_MODULES
    (tmp_path / "m0.py").unlink()
    assert len(top_level_modules(tmp_path)) == MAX_CORE_TOP_LEVEL_MODULES


def test_core_has_at_most_eight_top_level_modules():
    found = top_level_modules(REPO / "core")
    assert "cli.py" in found
    assert len(found) <= MAX_CORE_TOP_LEVEL_MODULES, found


def test_the_request_check_finds_request_classes_at_any_depth():
    tree = ast.parse(
        "class GenerationRequest: ...\n"
        "class RequestLog: ...\n"
        "def make():\n"
        "    class GridRequest: ...\n"
        "class Outer:\n"
        "    class InnerRequest: ...\n"
    )
    assert request_classes(tree, "r.py") == [
        "r.py:1: GenerationRequest",
        "r.py:4: GridRequest",
        "r.py:6: InnerRequest",
    ]


def test_one_request_model_at_most_four_request_classes():
    files = [*(REPO / "core").rglob("*.py"), *(REPO / "app").rglob("*.py"), REPO / "app.py"]
    found = [c for name, tree in _parsed(files) for c in request_classes(tree, name)]
    assert len(found) <= MAX_REQUEST_CLASSES, found


def test_the_length_check_counts_from_def_to_the_last_line():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES - 2))
    at_limit = f"def fits():\n{body}    return x0\n"
    assert long_functions(ast.parse(at_limit), "f.py") == []
    over = f"class C:\n    def grows(self):\n    {body.replace(chr(10), chr(10) + '    ')}    y = 1\n        return y\n"
    assert long_functions(ast.parse(over), "f.py") == [f"f.py:2: grows ({MAX_FUNCTION_LINES + 1} lines)"]


def test_no_function_in_core_is_longer_than_120_lines():
    files = list((REPO / "core").rglob("*.py"))
    assert [f for name, tree in _parsed(files) for f in long_functions(tree, name)] == []


def test_no_function_in_app_is_longer_than_120_lines():
    files = [*(REPO / "app").rglob("*.py"), REPO / "app.py"]
    assert [f for name, tree in _parsed(files) for f in long_functions(tree, name)] == []
