"""Every `ecomapper` / `python -m core` command in README.md and docs/*.md runs as written (issue 25).

The rule (also in docs/cli.md, "How the examples are tested"):
- Commands in ```bash blocks are run; a block without a language is a synopsis (placeholders such
  as LAT or [--flag]) and is not. A command in a bash block must be complete: no `...`, no `[...]`.
- The commands of one file run in order in one folder (later ones read what earlier ones wrote),
  in this process through `core.cli.main` (what `ecomapper` calls), against the replay server, the
  seeded CMIP6 archive and a local map-tile server. The folder has `assets/` and `../shared/` as
  the repository has, so the documented relative paths hold.
- `printf` / `echo` / `mkdir` lines run in a shell there, `export` lines set the variable (except
  the endpoints this test points at its own servers); other programs (`hf`, `bash scripts/...`, the
  replay server itself) are not run.
- An HTML comment on the line above a block changes what is run:
  `<!-- docs-test: real-weights -->`: the block needs real weights; `--model ID` becomes the tiny
  variant of its family (`tiny-ID` when one exists, else `tiny-random`), `--controlnet` / `--lora`
  Hub references are dropped (tiny-random carries a ControlNet) and `--steps 2 --size 64` replace
  the sampling sizes (not with `--recipe`, which fixes them). Nothing else of the command changes.
  `<!-- docs-test: skip: REASON -->`: not run here (a download, an install); the reason is kept.
  `<!-- docs-test: exit N -->`: the block's commands are documented to end with exit code N.
- A command fails the test when its exit code differs or a file it names with `--out` is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.cli import build_parser, command_in, main
from core.services import model_choices
from tests.support.replay_fixtures import REAL, start_replay_server
from tests.support.tile_server import TileServer

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^(?:<!-- docs-test: (?P<note>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M)
_CORE_PREFIXES = (
    [".venv/bin/python", "-m", "core"],
    ["python", "-m", "core"],
    [".venv/bin/ecomapper"],
    ["ecomapper"],
)
_SHELL_PROGRAMS = {"printf", "echo", "mkdir"}
FAST_SAMPLING = {"--steps": "2", "--size": "64"}


@dataclass(frozen=True)
class DocumentedCommand:
    """One command line of a bash block: where it is, its words, and what its block's note asks."""

    where: str
    line: str
    words: tuple[str, ...]
    note: str

    @property
    def core_argv(self) -> list[str] | None:
        """The arguments after `ecomapper` / `python -m core`, or None for another program."""
        for prefix in _CORE_PREFIXES:
            if list(self.words[: len(prefix)]) == prefix:
                return list(self.words[len(prefix) :])
        return None


def documented_commands(path: Path) -> list[DocumentedCommand]:
    """The command lines of the bash blocks of one Markdown file, continuation lines joined."""
    text = path.read_text(encoding="utf-8")
    commands = []
    for block in _BLOCK.finditer(text):
        if block.group("lang") not in ("bash", "sh"):
            continue
        first_line = text[: block.start("body")].count("\n") + 1
        pending, start = "", 0
        for offset, line in enumerate(block.group("body").splitlines()):
            pending, start = (f"{pending}\n{line}", start) if pending else (line, offset)
            if pending.endswith("\\"):  # a continuation line
                pending = pending[:-1] + " "
                continue
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # a quoted text over several lines: read on
                continue
            if words:
                where = f"{path.relative_to(REPO)}:{first_line + start}"
                commands.append(DocumentedCommand(where, pending, tuple(words), block.group("note") or ""))
            pending = ""
    return commands


def tiny_argv(argv: list[str]) -> list[str]:
    """A real-weights command on the tiny variant of its model family, small and fast (see the module rule)."""
    tiny_ids = {model_id for model_id, _ in model_choices() if model_id.startswith("tiny-")}
    out: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--model":
            model = next(words)
            out += [word, f"tiny-{model}" if f"tiny-{model}" in tiny_ids else "tiny-random"]
        elif word in ("--controlnet", "--lora") or word in FAST_SAMPLING:
            next(words)
        else:
            out.append(word)
    name = command_in(out)
    subcommands = next(a for a in build_parser(name)._actions if isinstance(a, argparse._SubParsersAction))
    known = {option for action in subcommands.choices[name]._actions for option in action.option_strings}
    if "--recipe" in out:  # the recipe fixes steps and size (and was itself made small)
        return out
    return out + [word for option, value in FAST_SAMPLING.items() if option in known for word in (option, value)]


def run_core(argv: list[str]) -> tuple[int, str]:
    """`ecomapper ARGV` in this process: (exit code, stderr's last lines)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse refusing a flag
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, "\n".join(stderr.getvalue().strip().splitlines()[-3:])


def expected_exit(note: str) -> int:
    match = re.fullmatch(r"exit (\d+)", note)
    return int(match.group(1)) if match else 0


@pytest.fixture(scope="module")
def documented_world(test_rasters, cmip6_archive, tmp_path_factory):
    """Environment variables pointing every service at local servers, for the whole module."""
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    server = start_replay_server(REAL, test_rasters)
    tiles = TileServer().__enter__()
    root = tmp_path_factory.mktemp("documented")
    env = {
        **server.env(),
        "ECOMAPPER_BOUNDARIES_URL": "",
        "ECOMAPPER_CMIP6_CATALOG_URL": str(cmip6_archive.catalog_gs),
        "ECOMAPPER_CMIP6_STORE_URL": str(cmip6_archive.root),
        "ECOMAPPER_OSM_TILE_URL": tiles.url_template,
        "ECOMAPPER_CACHE_DIR": str(root / "cache"),
        "ECOMAPPER_CHECKPOINTS_DIR": str(root / "checkpoints"),
        "ECOMAPPER_RETRIES": "1",
        "ECOMAPPER_BACKOFF_S": "0",
    }
    try:
        yield root, env
    finally:
        tiles.__exit__(None, None, None)
        server.stop()


def _folder_like_the_repository(root: Path, name: str) -> Path:
    """root/<name>/repo with `assets` and `../shared` linked, so documented relative paths hold."""
    work = root / name / "repo"
    work.mkdir(parents=True)
    (work / "assets").symlink_to(REPO / "assets")
    (work.parent / "shared").symlink_to(REPO.parent / "shared")
    return work


def _run_one(command: DocumentedCommand, work: Path, local_env: dict[str, str], monkeypatch) -> str | None:
    """Run one documented line; None when it did what the document says, else why not."""
    words = list(command.words)
    if words[0] == "export":
        for assignment in words[1:]:
            key, _, value = assignment.partition("=")
            if key not in local_env:  # the doc's own replay set-up: this test's servers stand in for it
                monkeypatch.setenv(key, value)
        return None
    argv = command.core_argv
    if argv is None:
        if words[0] in _SHELL_PROGRAMS:
            done = subprocess.run(command.line, shell=True, cwd=work, check=False)
            return None if done.returncode == 0 else f"exit {done.returncode}"
        return None  # another program (hf, bash scripts/..., the replay server): not ours to run here
    if "..." in words or any(word.startswith("[") for word in words):
        return "not runnable as written: write the command out, or move it to a synopsis block (no language)"
    if command.note == "real-weights":
        argv = tiny_argv(argv)
    code, stderr = run_core(argv)
    wanted = expected_exit(command.note)
    if code != wanted:
        return f"exit {code} (documented: {wanted}): {stderr}"
    outs = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word in ("--out", "--out-dir", "--output-dir")]
    missing = [out for out in outs if not (work / out).exists()]
    return f"did not write {missing}" if missing else None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_documented_command_runs(document, documented_world, monkeypatch):
    root, env = documented_world
    commands = [c for c in documented_commands(document) if not c.note.startswith("skip")]
    if not any(c.core_argv is not None for c in commands):
        pytest.skip(f"{document.name} documents no runnable command")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    work = _folder_like_the_repository(root, document.stem)
    monkeypatch.chdir(work)
    failures = []
    for command in commands:
        started = time.perf_counter()
        why = _run_one(command, work, env, monkeypatch)
        print(f"{time.perf_counter() - started:6.1f} s  {command.where}")  # where the docs test spends its time
        if why:
            failures.append(f"{command.where}: {shlex.join(command.words)[:160]}\n    -> {why}")
    assert not failures, "documented commands that fail:\n" + "\n".join(failures)


def test_the_extractor_finds_the_readme_commands_and_their_notes():
    """The README's 10-second command is found whole; its download block is a documented skip."""
    commands = documented_commands(REPO / "README.md")
    quick = next(c for c in commands if c.core_argv and "--offline" in c.core_argv)
    assert quick.core_argv[:2] == ["--offline", "generate"] and quick.core_argv[-2:] == ["--out", "out.png"]
    assert "Barren or Sparsely Vegetated" in quick.core_argv
    download = next(c for c in commands if c.core_argv and c.core_argv[0] == "download")
    assert download.note.startswith("skip:")
    real = next(c for c in commands if c.note == "real-weights")
    assert tiny_argv(real.core_argv)[:3] == ["generate", "--model", "tiny-random"]
    assert tiny_argv(real.core_argv)[-4:] == ["--steps", "2", "--size", "64"]
