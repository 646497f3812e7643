"""Tables laid out like the EcoMapper paper's: per model, per land cover, per year, extreme climates.

Every table has the paper's five metric columns (FID, LPIPS, SSIM, PSNR, CLIP score) plus the
sample count N. FID is a set metric: it is computed per row from the stored Inception features
of that row's samples (one row at a time, so memory stays flat); the others are per-image means.
"Extreme" climates are samples beyond the 10th / 90th percentile of the dataset's values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.metrics.availability import HIGHER_IS_BETTER, METRIC_NAMES

CLIMATE_VARIABLES = {
    "temp_c": ("temperature", "°C"),
    "precip_mm_day": ("precipitation", "mm/day"),
    "solar_mj_m2_day": ("radiation", "MJ/m²/day"),
}
DEFAULT_EXTREME_PERCENTILE = 10.0
COLUMN_TITLES = {"fid": "FID", "lpips": "LPIPS", "ssim": "SSIM", "psnr": "PSNR", "clip": "CLIP"}
DECIMALS = {"fid": 2, "lpips": 4, "ssim": 4, "psnr": 2, "clip": 2}
MODE_LABELS = {"text": "text-to-image", "controlnet": "ControlNet (previous month)"}
FEATURE_BATCH = 256

FeatureLoader = Callable[[str], "tuple[np.ndarray, np.ndarray] | None"]


@dataclass(frozen=True)
class ExtremeThresholds:
    """Low / high cut-offs per climate variable (the dataset's p-th and (100-p)-th percentiles)."""

    percentile: float
    bounds: dict[str, tuple[float, float]]
    n_samples: int

    def as_dict(self) -> dict:
        return {
            "percentile": self.percentile,
            "n_samples": self.n_samples,
            "bounds": {k: {"low": lo, "high": hi} for k, (lo, hi) in self.bounds.items()},
        }


def extreme_thresholds(
    climates: Iterable[dict[str, float | None]], percentile: float = DEFAULT_EXTREME_PERCENTILE
) -> ExtremeThresholds:
    """Percentile cut-offs from the climate values of all samples that have climate."""
    rows = [c for c in climates if all(c.get(k) is not None for k in CLIMATE_VARIABLES)]
    bounds = {}
    for key in CLIMATE_VARIABLES:
        values = np.array([row[key] for row in rows], dtype=np.float64)
        if len(values):
            bounds[key] = (float(np.percentile(values, percentile)), float(np.percentile(values, 100 - percentile)))
    return ExtremeThresholds(percentile=percentile, bounds=bounds, n_samples=len(rows))


def model_label(record: dict) -> str:
    return f"{record['model']} ({MODE_LABELS.get(record['mode'], record['mode'])})"


def _group_row(records: list[dict], metrics: tuple[str, ...], load_features: FeatureLoader | None) -> dict:
    row: dict[str, float | int] = {"N": len(records)}
    for name in metrics:
        if name == "fid":
            row["fid"] = _group_fid(records, load_features) if load_features else math.nan
            continue
        values = [r.get(name) for r in records]
        finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
        row[name] = float(np.mean(finite)) if finite else math.nan
    return row


def _group_fid(records: list[dict], load_features: FeatureLoader) -> float:
    from core.metrics.fid import fid_from_feature_stream

    loaded = (load_features(record["key"]) for record in records)
    return fid_from_feature_stream((pair for pair in loaded if pair is not None), batch_size=FEATURE_BATCH)


def _table(groups: list[tuple[dict, list[dict]]], metrics, load_features, keep_empty: bool = False) -> pd.DataFrame:
    rows = []
    for labels, records in groups:
        if records:
            rows.append({**labels, **_group_row(records, metrics, load_features)})
        elif keep_empty:  # the paper's extreme-condition rows are shown even when no sample falls in them
            rows.append({**labels, "N": 0, **dict.fromkeys(metrics, math.nan)})
    return pd.DataFrame(rows)


def _by_model(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for record in records:
        grouped.setdefault(model_label(record), []).append(record)
    return dict(sorted(grouped.items()))


def _groups_by(by_model: dict[str, list[dict]], key: str, column: str) -> list[tuple[dict, list[dict]]]:
    """One row per model and value of `key` (sorted), labelled `column`, with the records that have it."""
    return [
        ({"Model": m, column: value}, [r for r in rs if r[key] == value])
        for m, rs in by_model.items()
        for value in sorted({r[key] for r in rs})
    ]


def build_tables(
    records: list[dict],
    thresholds: ExtremeThresholds,
    load_features: FeatureLoader | None,
    metrics: tuple[str, ...] = METRIC_NAMES,
) -> dict[str, pd.DataFrame]:
    """The four paper tables from per-sample records.

    Args:
        records: per-sample results (`model`, `mode`, `land_cover`, `year`, climate, metric values, `key`).
        thresholds: extreme-climate cut-offs.
        load_features: key -> (real, fake) Inception features, or None when FID is off.
        metrics: metric columns, in the paper's order.

    Returns:
        {"models", "land_cover", "year", "extremes"} -> DataFrame.
    """
    by_model = _by_model(records)
    tables = {
        "models": _table([({"Model": m}, rs) for m, rs in by_model.items()], metrics, load_features),
        "land_cover": _table(_groups_by(by_model, "land_cover", "Land cover"), metrics, load_features),
        "year": _table(_groups_by(by_model, "year", "Year"), metrics, load_features),
    }
    extreme_groups = []
    for m, rs in by_model.items():
        with_climate = [r for r in rs if all(r.get(k) is not None for k in CLIMATE_VARIABLES)]
        extreme_groups.append(({"Model": m, "Condition": "all samples with climate (reference)"}, with_climate))
        for key, (word, unit) in CLIMATE_VARIABLES.items():
            if key not in thresholds.bounds:
                continue
            low, high = thresholds.bounds[key]
            extreme_groups.append(
                (
                    {"Model": m, "Condition": f"high {word} (≥ {high:.2f} {unit}, p{100 - thresholds.percentile:g})"},
                    [r for r in with_climate if r[key] >= high],
                )
            )
            extreme_groups.append(
                (
                    {"Model": m, "Condition": f"low {word} (≤ {low:.2f} {unit}, p{thresholds.percentile:g})"},
                    [r for r in with_climate if r[key] <= low],
                )
            )
    tables["extremes"] = _table(extreme_groups, metrics, load_features, keep_empty=True)
    return tables


def _format(value, name: str, decimals: dict[str, int] = DECIMALS) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in decimals:
        return "inf" if math.isinf(value) else f"{value:.{decimals[name]}f}"
    return str(value)


def to_markdown(table: pd.DataFrame, metrics: tuple[str, ...] = METRIC_NAMES, clip_scale: str | None = None) -> str:
    """A GitHub Markdown table with arrows saying which direction is better.

    `clip_scale` ("cosine" as the paper, or "x100") is named in the CLIP column's title.
    """
    titles, decimals = dict(COLUMN_TITLES), dict(DECIMALS)
    if clip_scale is not None:
        from core.metrics.conventions import clip_column_title

        titles["clip"] = clip_column_title(clip_scale)
        decimals["clip"] = 4 if clip_scale == "cosine" else 2
    if table.empty:
        return "_no samples_\n"
    columns = [c for c in table.columns if c not in METRIC_NAMES] + [m for m in metrics if m in table.columns]
    headers = []
    for column in columns:
        if column in METRIC_NAMES:
            headers.append(f"{titles[column]} {'↑' if HIGHER_IS_BETTER[column] else '↓'}")
        else:
            headers.append(str(column))
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(_format(row[c], c, decimals) for c in columns) + " |")
    return "\n".join(lines) + "\n"
