"""Maps as PNGs with a legend (matplotlib, no display needed): an ensemble's change and spread, a generated NDVI."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np

from core.io.files import atomic_output


def _figure(
    values: np.ndarray, path: str | os.PathLike, *, cmap: str, vmin: float, vmax: float, title: str, legend: str
) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.2, 4.4), dpi=100)
    try:
        shown = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title("\n".join(textwrap.wrap(title, 64, replace_whitespace=False)), fontsize=8)  # labels are long
        ax.set_axis_off()
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04).set_label(legend, fontsize=8)
        fig.tight_layout()
        with atomic_output(target) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return target


def _change_limit(brightness_change: np.ndarray) -> float:
    """The colour scale's end, symmetric about 0 (at least 1 unit, so 'no change' stays white)."""
    return max(1.0, float(np.abs(brightness_change).max()))


def change_colours(brightness_change: np.ndarray) -> np.ndarray:
    """The change map's pixels alone (uint8 HxWx3, the same colours as `write_change_map`), for a map overlay."""
    from matplotlib import colormaps

    limit = _change_limit(brightness_change)
    scaled = (np.asarray(brightness_change, dtype=np.float64) + limit) / (2.0 * limit)
    return (colormaps["RdBu_r"](scaled)[..., :3] * 255.0).round().astype(np.uint8)


def write_change_map(brightness_change: np.ndarray, path: str | os.PathLike, *, samples: int, title: str) -> Path:
    """Diverging colours (blue darker, red brighter) of the mean brightness change, symmetric about 0."""
    limit = _change_limit(brightness_change)
    return _figure(
        brightness_change,
        path,
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        title=f"{title}\nmean change, scenario − today ({samples} seeds)",
        legend="brightness change (0–255 units)",
    )


def write_spread_map(spread: np.ndarray, path: str | os.PathLike, *, samples: int, title: str) -> Path:
    """Sequential colours of the per-pixel standard deviation of the change across samples (0 = every seed agrees)."""
    return _figure(
        spread,
        path,
        cmap="viridis",
        vmin=0.0,
        vmax=max(1.0, float(spread.max())),
        title=f"{title}\nspread of the change across {samples} seeds",
        legend="standard deviation (0–255 units)",
    )


def write_ndvi_map(ndvi: np.ndarray, path: str | os.PathLike, *, title: str) -> Path:
    """NDVI of generated bands, -1 (water, bare) brown to +1 (dense vegetation) green; no data (NaN) blank."""
    return _figure(ndvi, path, cmap="RdYlGn", vmin=-1.0, vmax=1.0, title=title,
                   legend="NDVI = (B08 − B04) / (B08 + B04)")  # fmt: skip
