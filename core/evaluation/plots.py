"""Matplotlib figures of an evaluation: metrics per land cover, and per-image metrics against climate."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from core.evaluation.tables import CLIMATE_VARIABLES, COLUMN_TITLES, model_label
from core.io.files import atomic_write_bytes
from core.metrics.availability import HIGHER_IS_BETTER

PER_IMAGE_METRICS = ("lpips", "ssim", "psnr", "clip")


def _save(figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return atomic_write_bytes(path, buffer.getvalue())


def plot_metrics_by_land_cover(land_cover_table: pd.DataFrame, metrics: tuple[str, ...], path: Path) -> Path:
    """One bar chart per metric: the value per land cover, one bar group per model."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    shown = [m for m in metrics if m in land_cover_table and land_cover_table[m].notna().any()]
    figure, axes = plt.subplots(len(shown) or 1, 1, figsize=(10, 2.8 * max(len(shown), 1)), squeeze=False)
    classes = sorted(land_cover_table["Land cover"].unique()) if not land_cover_table.empty else []
    models = sorted(land_cover_table["Model"].unique()) if not land_cover_table.empty else []
    width = 0.8 / max(len(models), 1)
    for ax, metric in zip(axes[:, 0], shown, strict=False):
        for i, model in enumerate(models):
            rows = land_cover_table[land_cover_table["Model"] == model].set_index("Land cover")
            values = [rows[metric].get(c, math.nan) for c in classes]
            ax.bar([x + i * width for x in range(len(classes))], values, width=width, label=model)
        arrow = "higher is better" if HIGHER_IS_BETTER[metric] else "lower is better"
        ax.set_ylabel(COLUMN_TITLES[metric])
        ax.set_title(f"{COLUMN_TITLES[metric]} by land cover ({arrow})", fontsize=10)
        ax.set_xticks([x + width * (len(models) - 1) / 2 for x in range(len(classes))])
        ax.set_xticklabels(classes, rotation=25, ha="right", fontsize=8)
    if shown and models:
        axes[0, 0].legend(fontsize=8)
    if not shown:
        axes[0, 0].text(0.5, 0.5, "no metric values", ha="center", va="center")
    figure.tight_layout()
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)


def plot_metrics_vs_climate(records: list[dict], metrics: tuple[str, ...], path: Path) -> Path:
    """Per-image metrics (rows) against temperature, precipitation and radiation (columns)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    shown = [m for m in PER_IMAGE_METRICS if m in metrics and any(r.get(m) is not None for r in records)]
    with_climate = [r for r in records if all(r.get(k) is not None for k in CLIMATE_VARIABLES)]
    n_rows = max(len(shown), 1)
    figure, axes = plt.subplots(n_rows, 3, figsize=(11, 2.6 * n_rows), squeeze=False)
    models = sorted({model_label(r) for r in with_climate})
    for row, metric in enumerate(shown):
        for col, (key, (word, unit)) in enumerate(CLIMATE_VARIABLES.items()):
            ax = axes[row, col]
            for model in models:
                points = [
                    (r[key], float(r[metric]))
                    for r in with_climate
                    if model_label(r) == model and r.get(metric) is not None and math.isfinite(float(r[metric]))
                ]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.scatter(xs, ys, s=12, alpha=0.7, label=model)
            ax.set_xlabel(f"{word} ({unit})", fontsize=8)
            if col == 0:
                ax.set_ylabel(COLUMN_TITLES[metric])
    if shown and models:
        axes[0, 0].legend(fontsize=7)
    if not shown or not with_climate:
        axes[0, 0].text(0.5, 0.5, "no samples with climate", ha="center", va="center", transform=axes[0, 0].transAxes)
    figure.suptitle("Per-image metrics against the month's climate", fontsize=10)
    figure.tight_layout()
    try:
        return _save(figure, path)
    finally:
        plt.close(figure)
