"""A scenario grid: temperature changes (rows) x precipitation changes (columns) from one seed, with
row and column headers, drawn as one image that can be downloaded."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError
from core.export.provenance import Provenance, image_label
from core.generation.compositions import GridRequest
from core.generation.runs import ProgressCallback, ScenarioGridResult, generate_scenario_grid
from core.services.generate import check_runnable
from core.services.models import check_engine_matches, load_engine

HEADER_BAND = (16, 16, 16)
HEADER_TEXT = (245, 245, 245)


@dataclass(frozen=True)
class GridResult:
    """The cells, their headers and the composed picture."""

    grid: ScenarioGridResult
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    provenances: list[list[Provenance]]
    image: np.ndarray = field(repr=False)
    title: str = ""

    @property
    def cells(self):
        return self.grid.cells


def compose_grid(
    images: list[list[np.ndarray]], row_labels: list[str], column_labels: list[str], title: str = ""
) -> np.ndarray:
    """One picture: a title line, column headers on top, row headers on the left, cells in rows x columns.

    Every row has the same number of cells (a 2 x 2 grid never wraps as 3 + 1).
    """
    from PIL import Image, ImageDraw

    from core.export.timelapse import caption_font

    rows, cols = len(images), len(images[0]) if images else 0
    if not rows or any(len(row) != cols for row in images):
        raise BadRequestError("The grid's rows differ in length.", "Give the same number of cells in every row.")
    if len(row_labels) != rows or len(column_labels) != cols:
        raise BadRequestError("The grid's headers do not match its rows and columns.", "Give one label for each.")
    cell = images[0][0].shape[0]
    font_px = max(10, min(24, cell // 12))
    font = caption_font(font_px)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    margin = max(4, font_px // 2)
    left = int(max(probe.textlength(text, font=font) for text in row_labels)) + 2 * margin
    line = int(font_px * 1.4)
    title_lines = title.split("\n") if title else []
    top = line * (len(title_lines) + 1) + margin
    canvas = Image.new("RGB", (left + cols * cell, top + rows * cell), HEADER_BAND)
    draw = ImageDraw.Draw(canvas)
    for index, text in enumerate(title_lines):
        draw.text((margin, margin + index * line), text, font=font, fill=HEADER_TEXT)
    for c, text in enumerate(column_labels):
        width = probe.textlength(text, font=font)
        draw.text((left + c * cell + (cell - width) / 2, top - line), text, font=font, fill=HEADER_TEXT)
    for r, text in enumerate(row_labels):
        draw.text((margin, top + r * cell + (cell - font_px) / 2), text, font=font, fill=HEADER_TEXT)
        for c in range(cols):
            canvas.paste(Image.fromarray(images[r][c]), (left + c * cell, top + r * cell))
    return np.asarray(canvas)


def make_grid(
    request: GridRequest,
    settings: Settings,
    *,
    engine: Any = None,
    out: str | os.PathLike | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> GridResult:
    """Generate every cell from the base's seed and compose the headed picture (written to `out` if given).

    The picture's title says "AI-generated" (and "noise" for the tiny model), the place, the month and
    the observed climate the changes apply to.
    """
    from core.export.image_files import write_png

    check_runnable(request.base)
    engine = engine or load_engine(request.base.model, settings)
    check_engine_matches(engine, request.base.model)
    around = request.base.scenario
    grid = generate_scenario_grid(request, engine, settings, progress=progress, cancel=cancel)
    provenances = [[Provenance.of(cell) for cell in row] for row in grid.cells]
    first = provenances[0][0]
    varied = request.varied
    whose = "the observed" if around.is_today else f"{around.label}'s"
    title = (
        image_label(first.place, first.month, None, noise=first.is_noise)
        + f"\nchanges to {whose} {varied.temp_c:.1f} °C, {varied.precip_mm_day:.1f} mm/day"
    )
    source = grid.cells[0][0].request
    if source.mode in ("edit", "invert") and source.control_month not in (None, source.month):
        title += f"\nedits the real image of {source.control_month} (no usable scene of {source.month})"
    picture = compose_grid(
        [[cell.image for cell in row] for row in grid.cells], list(grid.row_labels), list(grid.column_labels), title
    )
    if out is not None:
        path = Path(out)
        if path.suffix.lower() != ".png":
            raise BadRequestError(f"{path.name!r} is not a .png file.", "Name the grid image *.png.")
        write_png(picture, path, {"Software": "EcoMapper Studio", "ai_generated": "true", "label": title,
                                  "cells": [[p.as_dict() for p in row] for row in provenances]})  # fmt: skip
    return GridResult(grid, grid.row_labels, grid.column_labels, provenances, picture, title)
