"""The tiler for regions larger than one model call: windows, blending weights, and the two samplers.

Model-agnostic: a generator is reached only through a `velocity(crop, index, t)` callback (MultiDiffusion)
or by running it once per window (MetaEarth), always at the window's size. Arrays are NumPy or torch
(slicing, `*` and `+=` only), so the same code blends latents on a GPU and pixels on the host.

- MultiDiffusion (Bar-Tal et al., 2023): at every step each window's model output is computed, the
  outputs are averaged on the canvas with weights that sum to 1 at every position, and ONE sampler step
  is taken on the whole canvas (for flow matching: x += (sigma_next - sigma) * v_mean). A stateful
  scheduler such as diffusers' `FlowMatchEulerDiscreteScheduler` counts its steps, so it is stepped
  once per step, never once per window.
- Mixture of Diffusers (Jiménez, 2023): MultiDiffusion's loop with Gaussian weights (`GAUSSIAN_SIGMA` of
  the window side), so where windows overlap the one whose centre is nearer counts more.
- MetaEarth (Yu et al., 2025): windows overlapping by half a tile, each generated on its own from the
  same initial noise (here: its crop of one canvas noise, so overlapping tiles start from the same
  noise where they overlap) with a deterministic sampler; only each tile's centre is kept
  ("centre" weights: every position belongs to the window whose centre is nearest).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import BadRequestError

METHODS = ("metaearth", "multidiffusion", "mixture")
# The blending profiles: equal shares (MultiDiffusion), Gaussian shares that favour a window's centre
# (Mixture of Diffusers), and centre ownership (MetaEarth's centre crops).
WEIGHT_PROFILES = ("uniform", "gaussian", "centre")
METHOD_PROFILE = {"multidiffusion": "uniform", "mixture": "gaussian", "metaearth": "centre"}
# The methods that average the windows' model outputs at every step (MultiDiffusion's loop; "mixture" is
# Mixture of Diffusers: the same loop with Gaussian weights, so a window's edge counts less than its centre).
AVERAGING_METHODS = ("multidiffusion", "mixture")
METHOD_NAMES = {"metaearth": "MetaEarth", "multidiffusion": "MultiDiffusion", "mixture": "Mixture-of-Diffusers"}
# MultiDiffusion needs the model's output at every step: the SD3 region sampler has it in these modes
# (img2img, edit and invert run their own loops; they go tile by tile, MetaEarth's way).
MULTIDIFFUSION_MODES = ("text", "controlnet")
# Gaussian profile: standard deviation as a fraction of the window side (Mixture of Diffusers uses ~0.3).
GAUSSIAN_SIGMA = 0.3


@dataclass(frozen=True)
class Window:
    """A tile-sized rectangle of the canvas, in the canvas's units (latent cells or pixels)."""

    top: int
    left: int
    height: int
    width: int

    @property
    def rows(self) -> slice:
        return slice(self.top, self.top + self.height)

    @property
    def cols(self) -> slice:
        return slice(self.left, self.left + self.width)

    @property
    def centre(self) -> tuple[float, float]:
        """(row, column) of the window's centre."""
        return self.top + self.height / 2.0, self.left + self.width / 2.0

    def scaled(self, factor: int) -> Window:
        """The same window in units `factor` times finer (latent cells -> pixels)."""
        return Window(self.top * factor, self.left * factor, self.height * factor, self.width * factor)


def axis_starts(length: int, tile: int, stride: int) -> list[int]:
    """Window starts along one axis: every `stride`, the last one flush with the end (no partial window)."""
    if tile > length:
        raise BadRequestError(
            f"A {tile} tile does not fit in a side of {length}.", "Make the region at least one tile."
        )
    if stride < 1:
        raise BadRequestError(f"The stride {stride} is not positive.", "Use a stride of 1 or more.")
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def plan_windows(height: int, width: int, tile: int, stride: int | None = None) -> list[Window]:
    """Square `tile` windows covering a height x width canvas, row by row; default stride half a tile."""
    step = stride if stride is not None else max(1, tile // 2)
    return [
        Window(top, left, tile, tile)
        for top in axis_starts(height, tile, step)
        for left in axis_starts(width, tile, step)
    ]


def _profile(window: Window, profile: str) -> np.ndarray:
    """One window's raw (unnormalised) weight over its own area."""
    if profile == "uniform":
        return np.ones((window.height, window.width), dtype=np.float64)
    if profile == "gaussian":
        rows = (np.arange(window.height) + 0.5 - window.height / 2.0) / (GAUSSIAN_SIGMA * window.height)
        cols = (np.arange(window.width) + 0.5 - window.width / 2.0) / (GAUSSIAN_SIGMA * window.width)
        return np.exp(-0.5 * (rows[:, None] ** 2 + cols[None, :] ** 2))
    raise BadRequestError(f"Unknown weight profile {profile!r}.", f"Use one of {', '.join(WEIGHT_PROFILES)}.")


def _centre_owner(windows: Sequence[Window], height: int, width: int) -> np.ndarray:
    """Index of the window whose centre is nearest each position, axis by axis (windows on a grid).

    With half-tile overlap this is every window's central half (MetaEarth's centre crop); windows at the
    canvas border also keep the strip of the border only they cover.
    """
    by_centre = {window.centre: index for index, window in enumerate(windows)}
    row_centres = np.array(sorted({centre[0] for centre in by_centre}))
    col_centres = np.array(sorted({centre[1] for centre in by_centre}))
    if len(by_centre) != len(row_centres) * len(col_centres):
        raise BadRequestError("The windows are not on a grid.", "Plan them with plan_windows.")
    nearest_row = np.abs((np.arange(height) + 0.5)[:, None] - row_centres[None, :]).argmin(axis=1)
    nearest_col = np.abs((np.arange(width) + 0.5)[:, None] - col_centres[None, :]).argmin(axis=1)
    grid = np.array([[by_centre[(r, c)] for c in col_centres] for r in row_centres], dtype=np.int64)
    owner = grid[nearest_row[:, None], nearest_col[None, :]]
    for index, window in enumerate(windows):  # a position must lie inside the window that keeps it
        mine = owner == index
        mine[window.rows, window.cols] = False
        if mine.any():
            raise BadRequestError("Some of the canvas is in no window.", "Plan windows that cover the canvas.")
    return owner


def window_weights(windows: Sequence[Window], height: int, width: int, profile: str) -> list[np.ndarray]:
    """Each window's share of every position it covers (float32, window-shaped); shares sum to 1 everywhere.

    Raises:
        BadRequestError: a window leaves the canvas, or some position is covered by no window.
    """
    for window in windows:
        if (
            window.top < 0
            or window.left < 0
            or window.top + window.height > height
            or window.left + window.width > width
        ):
            raise BadRequestError(f"{window} leaves the {height} x {width} canvas.", "Plan windows inside the canvas.")
    if profile == "centre":
        owner = _centre_owner(windows, height, width)
        return [(owner[w.rows, w.cols] == index).astype(np.float32) for index, w in enumerate(windows)]
    total = np.zeros((height, width), dtype=np.float64)
    raw = [_profile(window, profile) for window in windows]
    for window, weight in zip(windows, raw, strict=True):
        total[window.rows, window.cols] += weight
    if (total <= 0).any():
        raise BadRequestError("Some of the canvas is in no window.", "Plan windows that cover the canvas.")
    return [(weight / total[w.rows, w.cols]).astype(np.float32) for w, weight in zip(windows, raw, strict=True)]


def blend(canvas: Any, windows: Sequence[Window], weights: Sequence[Any], tile_of: Callable[[int, Window], Any]) -> Any:
    """Add each window's tile times its weights into `canvas` (zeros, [..., height, width]) and return it.

    `tile_of(index, window)` makes one tile at a time, so only one tile is alive besides the canvas.
    """
    for index, window in enumerate(windows):
        canvas[..., window.rows, window.cols] += tile_of(index, window) * weights[index]
    return canvas


def compose_tiles(
    tiles: Sequence[np.ndarray], windows: Sequence[Window], height: int, width: int, profile: str
) -> np.ndarray:
    """uint8 tiles (H x W x C, one per window) joined into one uint8 canvas with `profile` weights
    ("centre": MetaEarth's centre crops, every pixel from exactly one tile)."""
    weights = window_weights(windows, height, width, profile)
    channels = tiles[0].shape[-1]
    joined = blend(
        np.zeros((channels, height, width), dtype=np.float32),
        windows,
        weights,
        lambda index, _window: np.moveaxis(tiles[index], -1, 0).astype(np.float32),
    )
    return np.ascontiguousarray(np.moveaxis(np.clip(np.round(joined), 0, 255).astype(np.uint8), 0, -1))


def crop(image: np.ndarray, window: Window) -> np.ndarray:
    """The window's part of an H x W x C canvas image (a copy)."""
    return np.ascontiguousarray(image[window.rows, window.cols])


def multidiffusion_sample(
    latents: Any,
    timesteps: Sequence[Any],
    step: Callable[[Any, Any, Any], Any],
    windows: Sequence[Window],
    weights: Sequence[Any],
    velocity: Callable[[Any, int, Any], Any],
    on_step: Callable[[int, int], None] | None = None,
) -> Any:
    """MultiDiffusion: per step, the windows' model outputs averaged on the canvas, then one sampler step.

    Args:
        latents: the canvas, [..., height, width] (torch).
        timesteps: the sampler's timesteps.
        step: `step(model_output, t, latents) -> latents` for the whole canvas, called once per timestep
            (e.g. `scheduler.step(...)[0]`).
        windows, weights: from `plan_windows` / `window_weights`, in the canvas's units.
        velocity: `velocity(crop, window_index, t)`: the model's output for one window's crop.
        on_step: `on_step(step_index, windows_done)` after each window (progress, cancellation).
    """
    for step_index, t in enumerate(timesteps):

        def window_output(index: int, window: Window, t=t, step_index=step_index, latents=latents) -> Any:
            output = velocity(latents[..., window.rows, window.cols], index, t)
            if on_step is not None:
                on_step(step_index, index + 1)
            return output

        mean = blend(latents.new_zeros(latents.shape), windows, weights, window_output)
        latents = step(mean, t, latents)
    return latents


def seam_statistic(image: np.ndarray, windows: Sequence[Window]) -> dict[str, float]:
    """How visible tile borders are: mean absolute difference of neighbouring pixels across the borders
    between windows' centre areas vs inside them (ratio 1 = borders look like the rest of the image).

    `windows` are in pixels of `image` (H x W or H x W x C).
    """
    height, width = image.shape[:2]
    owner = _centre_owner(windows, height, width)
    pixels = image.astype(np.float64).reshape(height, width, -1)
    diffs, across = [], []
    for axis in (0, 1):
        diffs.append(np.abs(np.diff(pixels, axis=axis)).mean(axis=-1).ravel())
        across.append((np.diff(owner, axis=axis) != 0).ravel())
    diff, border = np.concatenate(diffs), np.concatenate(across)
    at_border = float(diff[border].mean()) if border.any() else math.nan
    inside = float(diff[~border].mean()) if (~border).any() else math.nan
    ratio = at_border / inside if inside and not math.isnan(at_border) else math.nan
    return {"border_mad": at_border, "inside_mad": inside, "ratio": ratio}
