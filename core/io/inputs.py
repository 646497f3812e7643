"""Files a user hands us (configs, recipes, images, weights): refused in one line that names the file.

A FIFO or a device given as an input would block or never end a read, so only regular files are read;
a file that is not what it claims (binary TOML, a 5000-digit number, JSON nested 100 000 deep) is
a bad input, not a bug.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import tomllib

from core.errors import BadRequestError


def check_input_file(path: str | os.PathLike, what: str, fix: str = "Check the path.") -> Path:
    """`path` as a Path when it is an existing regular file (symlinks followed), else BadRequestError."""
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError as err:
        raise BadRequestError(f"The {what} {target} does not exist.", fix) from err
    except OSError as err:
        raise BadRequestError(f"The {what} {target} cannot be read ({err.strerror or err}).", fix) from err
    if stat.S_ISDIR(mode):
        raise BadRequestError(f"The {what} {target} is a folder, not a file.", fix)
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        raise BadRequestError(f"The {what} {target} is {kind}, not a regular file.", "Give a regular file.")
    return target


def read_text(path: str | os.PathLike, what: str, fix: str = "Check the file.") -> str:
    """A UTF-8 text file, or BadRequestError naming it (missing, special, binary)."""
    target = check_input_file(path, what)
    try:
        return target.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise BadRequestError(f"The {what} {target} is not UTF-8 text (binary?).", fix) from err
    except OSError as err:
        raise BadRequestError(f"The {what} {target} cannot be read ({err.strerror or err}).", fix) from err


def read_toml(path: str | os.PathLike, what: str, fix: str = "Fix the syntax.") -> dict[str, Any]:
    """A TOML file as a dict, or BadRequestError naming it and the problem."""
    target = Path(path)
    text = read_text(target, what, fix)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise BadRequestError(f"The {what} {target} is not valid TOML: {err}.", fix) from err
    except (ValueError, RecursionError) as err:  # e.g. an integer over Python's 4300-digit limit
        raise BadRequestError(f"The {what} {target} cannot be read as TOML: {_short(err)}.", fix) from err


def parse_json(text: str, what: str, fix: str) -> Any:
    """JSON text, or BadRequestError naming `what` (bad syntax, nesting too deep, a number too long)."""
    try:
        return json.loads(text)
    except RecursionError as err:
        raise BadRequestError(f"The {what} is nested too deeply to read.", fix) from err
    except json.JSONDecodeError as err:
        raise BadRequestError(f"The {what} is not readable JSON: {err}.", fix) from err
    except ValueError as err:  # an integer over Python's 4300-digit limit
        raise BadRequestError(f"The {what} cannot be read: {_short(err)}.", fix) from err


def _short(err: BaseException) -> str:
    """The first clause of an error (Python's int-limit message goes on to suggest sys calls)."""
    return str(err).split(";", 1)[0].strip()
