"""`python -m core grid`: temperature x precipitation scenarios of one month from one seed, as one
headed image (the app's scenario grid, on the service layer)."""

from __future__ import annotations

import argparse

from core.commands._common import add_out_argument, point_from, print_result, written_files
from core.commands._generation_args import (
    TqdmProgress,
    add_mode_arguments,
    add_model_arguments,
    add_sampling_arguments,
    load_engine,
    mode_fields,
    request_fields,
    spec_from,
)
from core.commands._prompt_context import add_context_arguments
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month

HELP = "one image per (temperature change, precipitation change) of a month, with row and column headers"


def _numbers(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as err:
        raise BadRequestError(f"--{what} {text!r} is not a list of numbers.", "Write e.g. 0,2,4.") from err
    if not values:
        raise BadRequestError(f"--{what} is empty.", "Write e.g. 0,2,4.")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lat", type=float, required=True, help="latitude in decimal degrees")
    parser.add_argument("--lon", type=float, required=True, help="longitude in decimal degrees")
    parser.add_argument("--month", required=True, help="month, YYYY-MM")
    add_context_arguments(parser)
    # The scenario flags of the other commands, taking lists here; the plural names stay accepted.
    parser.add_argument(
        "--temp-delta", "--temp-deltas", dest="temp_deltas", default="0,2,4", help="rows: °C changes (default 0,2,4)"
    )
    parser.add_argument(
        "--precip-change",
        "--precip-changes",
        dest="precip_changes",
        default="-30,0,30",
        help="columns: percent changes, e.g. --precip-change -30,0,30 (the default)",
    )
    parser.add_argument("--batch-size", type=int, default=1, help="cells per pipeline call (GPU; default 1)")
    add_model_arguments(parser)
    add_sampling_arguments(parser)
    add_mode_arguments(parser)
    add_out_argument(parser, "the grid as one PNG")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.io.outputs import check_output_file
    from core.services import GenerationRequest, GridRequest, make_grid

    check_output_file(args.out, "--out", (".png",))  # before any look-up or step (issue 26: found after 26 s)
    spec = spec_from(args)  # a missing --model fails before any look-up
    temp_deltas = _numbers(args.temp_deltas, "temp-delta")
    precip_changes = _numbers(args.precip_changes, "precip-change")
    fields = request_fields(args, settings, point_from(args), Month.parse(args.month))
    base = GenerationRequest(**fields, **mode_fields(args, conditioned=False), model=spec)
    request = GridRequest(base, temp_deltas, precip_changes, batch_size=args.batch_size)
    engine = load_engine(args, settings, spec)
    progress = TqdmProgress("grid")
    try:
        grid = make_grid(request, settings, engine=engine, out=args.out, progress=progress)
    finally:
        progress.close()
    summary = {
        "written": written_files(png=args.out),
        "title": grid.title,
        "rows": list(grid.row_labels),
        "columns": list(grid.column_labels),
        "cells": [[p.scenario.label for p in row] for row in grid.provenances],
        "size_px": list(grid.image.shape[:2]),
        # e.g. edit / invert of a month without a scene: which earlier month's scene the cells edit
        "warnings": list(dict.fromkeys(w for row in grid.cells for cell in row for w in cell.warnings)),
    }
    print_result(summary)
    return 0
