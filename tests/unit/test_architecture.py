"""The architecture, checked on the source (AST; imports inside functions count too):

- `app` uses of `core` only the service layer and plain value types (ALLOWED_FOR_APP);
- a data source (`core/sources/`) never imports the models (`core.models`);
- `core` never imports gradio.
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
    }
)


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
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
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
