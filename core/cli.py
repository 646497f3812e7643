"""`python -m core <command>`: argument parsing and error reporting; each command lives in core/commands/.

A command module defines `HELP` (one line), `add_arguments(parser)` and `run(args, settings) -> int`.
It imports heavy libraries inside `run`, so `--help` stays fast and torch-free.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys

from core.config import Settings
from core.errors import CancelledError, EcoMapperError

# command name -> module under core.commands (one file per command)
COMMANDS = {
    "climate": "climate",
    "projection": "projection",
    "scene": "scene",
    "landcover": "landcover",
    "prompt": "prompt",
    "generate": "generate",
    "timelapse": "timelapse",
    "compare": "compare",
    "grid": "grid",
    "region": "region",
    "evaluate": "evaluate",
    "train": "train",
    "build-dataset": "build_dataset",
    "download": "download",
    "gapfill": "gapfill",
    "selfcheck": "selfcheck",
    "compare-models": "compare_models",
    "experiment": "experiment",
    "verify": "verify",
}

log = logging.getLogger("core")


def _available_commands(only: str | None = None) -> dict[str, object]:
    """The command modules (all of them, or just `only`'s: `generate --help` needs no other module)."""
    modules = {}
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            modules[name] = importlib.import_module(f"core.commands.{module_name}")
        except ModuleNotFoundError as err:
            if err.name != f"core.commands.{module_name}":
                raise
    return modules


def command_in(argv: list[str]) -> str | None:
    """The command an argument list names (the first word that is one), or None."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, only that command's module is imported (the others are names only)."""
    parser = argparse.ArgumentParser(
        prog="ecomapper" if os.path.basename(sys.argv[0]) == "ecomapper" else "python -m core",
        description="EcoMapper Studio: real Sentinel-2 and NASA POWER data at a point, and climate-aware "
        "satellite image generation, evaluation and fine-tuning. `ecomapper` and `python -m core` are the same "
        "command; `ecomapper app [--port P ...]` starts the app.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("--offline", action="store_true", help="serve only from the on-disk cache")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = _available_commands(command)
    for name in COMMANDS:
        module = modules.get(name)
        if module is None:
            if command is not None:
                sub.add_parser(name)  # a name to choose from; its module loads when it is the command
            continue
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        _add_global_flags(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def _add_global_flags(parser: argparse.ArgumentParser) -> None:
    """-v and --offline after the command name too (`python -m core generate ... --offline`)."""
    group = parser.add_argument_group("global options (also accepted before the command)")
    group.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more logging")
    group.add_argument(
        "--offline", action="store_true", default=argparse.SUPPRESS, help="serve only from the on-disk cache"
    )


# A value that starts with a minus and holds only numbers: a negative number or a list of them.
_NEGATIVE_VALUE = re.compile(r"^-\d[\d.,;\s-]*$")


def join_negative_values(argv: list[str]) -> list[str]:
    """`--bbox -10,35,5,45` as `--bbox=-10,35,5,45`: argparse takes a value that starts with '-' and is not one
    plain number for an option, and stops with "expected one argument"."""
    joined: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else None
        if token.startswith("--") and "=" not in token and following is not None and _NEGATIVE_VALUE.match(following):
            joined.append(f"{token}={following}")
            index += 2
            continue
        joined.append(token)
        index += 1
    return joined


class _TorchvisionFallbackFilter(logging.Filter):
    """Drops transformers' notice that it uses the PIL image processors because torchvision is absent.

    torchvision is left out on purpose (its wheels do not import beside the torch CPU build we pin),
    and the PIL processors are what we want; the notice would greet every generate and train run.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "requires torchvision (not installed); falling back" not in record.getMessage()


def quiet_known_library_notices() -> None:
    """Install the log filters the command line uses (idempotent)."""
    logger = logging.getLogger("transformers.utils.import_utils")
    if not any(isinstance(f, _TorchvisionFallbackFilter) for f in logger.filters):
        logger.addFilter(_TorchvisionFallbackFilter())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"]:
        start_app(argv[1:])
    try:
        parser = build_parser(command_in(argv))
    except ModuleNotFoundError as err:
        print(f"error: {missing_package_message(err)}", file=sys.stderr)
        return 2
    args = parser.parse_args(join_negative_values(argv))
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    quiet_known_library_notices()
    try:
        settings = Settings.from_env()
        if args.offline:
            settings = settings.with_(offline=True)
        return int(args._run(args, settings) or 0)
    except CancelledError as err:
        print(f"cancelled: {err}", file=sys.stderr)
        return 130
    except EcoMapperError as err:
        # One line, no traceback: the message already says what was wrong and what to do.
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except OSError as err:
        # A file or folder the user named (or the disk) failed us: say which, without a traceback.
        log.debug("file system error", exc_info=True)
        print(f"error: {describe_os_error(err)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        log.debug("missing package", exc_info=True)
        print(f"error: {missing_package_message(err)}", file=sys.stderr)
        return 2
    except RecursionError:
        log.debug("recursion", exc_info=True)
        print("error: An input is nested too deeply to read. Give a file written by EcoMapper Studio.", file=sys.stderr)
        return 2
    except Exception as err:
        # A bug: one line by default, the traceback with -v.
        if args.verbose:
            log.exception("unexpected error")
        message = " ".join(str(err).split())[:300]
        print(
            f"error: unexpected {type(err).__name__}: {message} (a bug; rerun with -v for the traceback and report it)",
            file=sys.stderr,
        )
        return 1


def start_app(app_args: list[str]) -> None:
    """`ecomapper app ...`: the app in this process's place (`python -m app`). The app is its own entry point;
    the command line starts it rather than importing it (core never imports gradio)."""
    os.execv(sys.executable, [sys.executable, "-m", "app", *app_args])


def describe_os_error(err: OSError) -> str:
    """One line naming the path and the reason of a file system error, and what to do."""
    paths = " -> ".join(str(p) for p in (err.filename, err.filename2) if p)
    reason = err.strerror or type(err).__name__
    return (
        f"{reason}: {paths}. " if paths else f"{reason}: {err}. "
    ) + "Check that the path exists, is the right kind (file or folder) and is writable, and that the disk has room."


def missing_package_message(err: ModuleNotFoundError) -> str:
    """One line: which package this Python lacks, and how to get the environment that has it."""
    return (
        f"The Python package {err.name!r} is not installed for {sys.executable}. "
        "Set up the environment with `bash scripts/setup.sh` and run the commands with .venv/bin/python "
        "(or the `ecomapper` command it installs)."
    )
