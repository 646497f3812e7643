"""The scenario grid as one picture: a title, column headers (precipitation), row headers
(temperature) and the cells in a real rows x columns layout, so it downloads as one image."""

from __future__ import annotations

import functools

import numpy as np

BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
MARK = (170, 0, 0)
GAP_PX = 6


@functools.lru_cache(maxsize=4)
def _font(size_px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=True)
    return ImageFont.truetype(path, size_px)


def compose_grid(
    cells: list[list[np.ndarray]], row_headers: list[str], column_headers: list[str], title: str
) -> np.ndarray:
    """`cells[row][column]` (uint8 HxWx3, all the same size) under headers, as one uint8 image."""
    from PIL import Image, ImageDraw

    rows, columns = len(cells), len(cells[0])
    if len(row_headers) != rows or len(column_headers) != columns or any(len(r) != columns for r in cells):
        raise ValueError("the headers must match the grid's rows and columns")
    height, width = cells[0][0].shape[:2]
    font_px = max(12, width // 24)
    font = _font(font_px)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left = max(int(probe.textlength(text, font=font)) for text in row_headers) + 2 * GAP_PX
    title_h = int(font_px * 1.6) + GAP_PX
    header_h = int(font_px * 1.6)
    # Wide enough for the title too (the place name can be longer than a 2-column grid is wide).
    canvas_width = max(left + columns * (width + GAP_PX), int(probe.textlength(title, font=font)) + 2 * GAP_PX)
    canvas = Image.new("RGB", (canvas_width, title_h + header_h + rows * (height + GAP_PX)), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((GAP_PX, GAP_PX // 2), title, font=font, fill=MARK)
    for c, text in enumerate(column_headers):
        x = left + c * (width + GAP_PX) + (width - probe.textlength(text, font=font)) / 2
        draw.text((x, title_h), text, font=font, fill=TEXT)
    for r, text in enumerate(row_headers):
        y = title_h + header_h + r * (height + GAP_PX) + (height - font_px) / 2
        draw.text((GAP_PX, y), text, font=font, fill=TEXT)
        for c in range(columns):
            canvas.paste(
                Image.fromarray(cells[r][c]),
                (left + c * (width + GAP_PX), title_h + header_h + r * (height + GAP_PX)),
            )
    return np.asarray(canvas)
