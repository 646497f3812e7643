"""The paper's experiments: extreme climates (one place under ever hotter / wetter prompts) and the future
(2050 / 2075 / 2100) from a CSV of places with projected climate, optionally filled from CMIP6."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import Settings
from core.errors import BadRequestError
from core.experiments.extremes import ExtremesRequest
from core.models.spec import ModelSpec

__all__ = [
    "ExtremesRequest",
    "load_experiment_model",
    "project_future_csv",
    "read_future_rows",
    "run_extremes",
    "run_future",
]


def load_experiment_model(spec: ModelSpec, settings: Settings, hf_cache_dir: str | None = None) -> Any:
    """The pipeline the experiments draw with (text-to-image, and ControlNet when the spec has one)."""
    from core.models.loading import load_pipeline

    return load_pipeline(spec, settings, hf_cache_dir=hf_cache_dir)


def run_extremes(loaded: Any, request: ExtremesRequest, progress: Any = None) -> Any:
    """Every seed x place x land cover x month under the extreme climates (figures and images)."""
    from core.experiments.extremes import run_extremes as run

    return run(loaded.pipeline_for("text"), request, progress=progress)


def project_future_csv(
    csv_in: str | Path, csv_out: str | Path, ssp: str, settings: Settings, years: tuple[int, ...], progress: Any = None
) -> Path:
    """`csv_in` with each year's CMIP6 climate under `ssp` added (`core.climate.future_csv`)."""
    from core.climate.future_csv import fill_future_csv

    return fill_future_csv(csv_in, csv_out, ssp, settings, years, progress=progress)


def read_future_rows(
    csv_path: str | Path, data_dir: str | Path | None, years: tuple[int, ...], seed: int = 0
) -> list[Any]:
    """The rows of a future CSV, checked before any work: ids usable as names, years and the rows x years bounded.

    Row `i` draws its noise with `seed + i`, so the last row's seed must be in range too.

    Raises:
        BadRequestError: naming the bad id (file and line), year or count.
    """
    from core import limits
    from core.experiments.future import read_future_csv

    if not years:
        raise BadRequestError("--years is empty.", "Give e.g. --years 2050,2075,2100.")
    for year in years:
        limits.FUTURE_YEAR.check("--years", year)
    rows = read_future_csv(csv_path, data_dir, tuple(years))
    limits.FUTURE_IMAGES.check("rows x --years", len(rows) * len(years))
    limits.GENERATION_SEED.check("--seed", seed)
    limits.GENERATION_SEED.check("--seed + the number of rows", seed + len(rows) - 1)
    return rows


def run_future(
    loaded: Any, rows: list[Any], out_dir: str | Path, *, text_only: bool = False, **options
) -> tuple[Any, str]:
    """Generate every row (see `read_future_rows`) at each year; ControlNet when the model has one (unless `text_only`).

    Returns the result and the mode used.
    """
    from core.experiments.future import run_future as run

    mode = "controlnet" if loaded.has_controlnet and not text_only else "text"
    return run(loaded.pipeline_for(mode), rows, out_dir, **options), mode
