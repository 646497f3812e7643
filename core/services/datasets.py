"""Building an EcoMapper-layout dataset: Sentinel-2, NASA POWER, land cover and place names per place and month.

The places come from a CSV or are sampled on land, stratified by land cover; `core.dataset.builder` does
the fetching (in parallel, resumable, every file written atomically), in this process or, with
`scheduler="local:N"` / `"tcp://host:8786"`, as one task per place on a dask cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import Settings
from core.dataset.builder import DEFAULT_SAMPLE_BBOX
from core.geo import Month

__all__ = ["DEFAULT_SAMPLE_BBOX", "build_dataset", "dataset_places"]


def dataset_places(
    settings: Settings,
    *,
    locations_csv: str | Path | None = None,
    sample: int | None = None,
    seed: int = 0,
    bbox: tuple[float, float, float, float] | None = None,
    max_workers: int = 4,
) -> list[Any]:
    """The places of a dataset: read from `locations_csv`, or `sample` land points stratified by land cover."""
    from core.dataset.builder import read_locations_csv, sample_locations

    if locations_csv is not None:
        return read_locations_csv(locations_csv)
    return sample_locations(sample, settings, seed=seed, bbox=bbox or DEFAULT_SAMPLE_BBOX, max_workers=max_workers)


def build_dataset(
    places: list[Any], months: list[Month], out_dir: str | Path, settings: Settings, **options: Any
) -> Any:
    """Fetch and write every place x month (existing months are skipped); see `core.dataset.builder.build_dataset`."""
    from core.dataset.builder import build_dataset as build
    from core.io.folder_lock import folder_lock

    with folder_lock(out_dir, "--out"):  # two builds into one folder would race on the same files
        return build(places, months, out_dir, settings, **options)
