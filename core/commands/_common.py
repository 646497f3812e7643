"""Argument and output helpers shared by several commands (one flag name per concept, one result shape)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.geo import Point


def add_point_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lat", type=float, required=True, help="latitude in decimal degrees")
    parser.add_argument("--lon", type=float, required=True, help="longitude in decimal degrees")


def point_from(args: argparse.Namespace) -> Point:
    return Point(args.lat, args.lon)


def add_out_argument(parser: argparse.ArgumentParser, help: str, *old_names: str, required: bool = True) -> None:
    """`--out` for what a command writes, file or folder, in every command; a name it had before
    (`--out-dir`, `--output-dir`) stays accepted as an alias, so scripts written against it keep working."""
    if old_names:
        help = f"{help} ({', '.join(old_names)}: the former name, still accepted)"
    parser.add_argument("--out", *old_names, dest="out", required=required, type=Path, help=help)


def written_files(**paths: object) -> dict[str, str]:
    """The `written` object of every command's JSON: what kind of file -> its path (absent ones left out)."""
    return {kind: str(path) for kind, path in paths.items() if path is not None}


def print_result(summary: dict) -> None:
    """A command's result: one JSON object on stdout (progress and logs go to stderr)."""
    print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
