"""The one place where a name from data (location id, sample key, export stem) becomes part of a path.

A name that is allowed here cannot leave the folder it is joined to: letters, digits, '.', '-'
(and '_' where the caller allows it), no separator, not "." or "..", and bounded in length.
"""

from __future__ import annotations

import re

from core.errors import BadRequestError

# 120 characters leave room for a suffix such as "_2050-02.png.tmp-<pid>" within 255-byte names.
MAX_NAME_CHARS = 120
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
_NAME_WITH_UNDERSCORE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: object, what: str, *, underscore: bool = False, max_chars: int = MAX_NAME_CHARS) -> str:
    """Return `text` if it is usable as one file or folder name, else refuse it.

    Args:
        text: the name from data (a CSV cell, a sample id, a stem).
        what: what it is, for the message ("location id", "sample key").
        underscore: also allow '_' (not for ids that prefix `<id>_<YYYY-MM>` names, where '_' splits).
        max_chars: the longest name allowed (keys with a digest suffix are a little longer).

    Raises:
        BadRequestError: naming the value and the characters allowed.
    """
    name = str(text)
    allowed = "letters, digits, '.', '-'" + (" and '_'" if underscore else "")
    pattern = _NAME_WITH_UNDERSCORE if underscore else _NAME
    if len(name) > max_chars:
        raise BadRequestError(
            f"The {what} {name[:40]!r}... is {len(name)} characters long (at most {max_chars}).",
            f"Use a shorter {what}.",
        )
    if not pattern.fullmatch(name) or ".." in name:
        raise BadRequestError(
            f"The {what} {name!r} is not usable as a folder name or file name.",
            f"Use {allowed} only, starting with a letter or digit (no '/', '\\', '..' or spaces).",
        )
    return name


def to_safe_name(text: str, what: str) -> str:
    """A safe name made from free text (unsafe runs become '-'), checked by `safe_name` (length, '..')."""
    name = _UNSAFE.sub("-", text).strip("-.")
    name = re.sub(r"\.{2,}", ".", name)
    return safe_name(name, what, underscore=True)


def safe_label(text: object, what: str) -> str:
    """Return `text` if it may name one folder as written ("Cape Town, South Africa"), else refuse it.

    Looser than `safe_name` (spaces, commas and other printable characters stay, as the paper's
    folder layout has them) but still one component: no separator, no leading '.', no control
    character, at most MAX_NAME_CHARS.

    Raises:
        BadRequestError: naming the value and the fix.
    """
    name = str(text)
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        raise BadRequestError(
            f"The {what} {name[:40]!r} is empty or longer than {MAX_NAME_CHARS} characters.",
            f"Give a {what} of 1 to {MAX_NAME_CHARS} characters.",
        )
    if "/" in name or "\\" in name or name.startswith(".") or not name.isprintable():
        raise BadRequestError(
            f"The {what} {name!r} is not usable as a folder name.",
            "Leave out '/', '\\', a leading '.' and control characters.",
        )
    return name
