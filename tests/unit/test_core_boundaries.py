"""House rules for core/, checked on the source: no gradio, model libraries only where allowed and
imported lazily elsewhere, light imports, no print outside the command line, no silent except."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from tests.conftest import REPO

CORE = REPO / "core"
MODEL_LIBRARIES = {"torch", "diffusers", "transformers", "peft", "accelerate"}
# Only these may import the model libraries (STYLE.md); the evaluation run may too, inside functions.
MAY_IMPORT_MODEL_LIBRARIES = ("models/", "generate.py", "train/", "metrics/")
LAZY_ONLY = ("evaluation/run.py",)
# Modules that define torch.nn.Module subclasses need torch when they are imported.
DEFINE_NETWORKS = {"core.metrics.clip_score", "core.metrics.fid", "core.metrics.inception", "core.metrics.lpips",
                   "core.metrics.state_dicts", "core.models.backends.diffusionsat_unet",
                   "core.models.backends.copgen_uvit", "core.models.backends.aerogen_unet"}  # fmt: skip


def _sources() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(CORE)), ast.parse(path.read_text(), str(path))) for path in CORE.rglob("*.py")]


def _imported_roots(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module.split(".")[0]}
    return set()


def test_core_never_imports_gradio_and_model_libraries_stay_in_their_packages():
    wrong: list[str] = []
    for name, tree in _sources():
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            roots = _imported_roots(node)
            if "gradio" in roots:
                wrong.append(f"{name}: gradio")
            heavy = roots & MODEL_LIBRARIES
            if not heavy or name.startswith(MAY_IMPORT_MODEL_LIBRARIES):
                continue
            if name in LAZY_ONLY and id(node) not in top_level:
                continue
            wrong.append(f"{name}:{node.lineno}: {sorted(heavy)}")
    assert wrong == []


def test_importing_any_core_module_loads_no_model_library_or_gradio():
    modules = sorted(
        "core." + str(path.relative_to(CORE).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for path in CORE.rglob("*.py")
        if path.name != "__main__.py"
    )
    modules = [m for m in modules if m not in DEFINE_NETWORKS]
    probe = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in {sorted(MODEL_LIBRARIES | {'gradio'})!r} if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_no_print_outside_the_command_line_and_no_silent_except():
    wrong: list[str] = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            is_print = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
            if is_print and not (name.startswith("commands/") or name == "cli.py"):
                wrong.append(f"{name}:{node.lineno}: print")
            if isinstance(node, ast.ExceptHandler):
                if node.type is None:
                    wrong.append(f"{name}:{node.lineno}: bare except")
                if len(node.body) == 1 and isinstance(node.body[0], ast.Pass):
                    wrong.append(f"{name}:{node.lineno}: except ...: pass")
    assert wrong == []


def test_no_todo_or_placeholder_markers():
    markers = ("TODO", "FIXME", "XXX", "placeholder")
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in CORE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if any(marker in line for marker in markers)
    ]
    assert found == []
