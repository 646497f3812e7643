"""Calls into `core.services` that several handlers share, shaped for them: the place of a point,
the month's real image, today vs scenario from one seed with its exports, the time-lapse and grid.

The requests these calls take are built in `app.handlers.requests`.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import services
from core.geo import Footprint, Month, Point

log = logging.getLogger(__name__)
# how long an exiting process waits for the warm-up (it takes about a second when the caches are warm)
WARM_UP_JOIN_S = 30.0


def warm_up(settings=None) -> None:
    """Load the place look-up (the boundary file: fetched once, then from the cache) and the land mask
    now, so the first click does not wait for them."""
    services.place_of(Point(48.85, 2.35), settings)


def warm_up_in_background(settings) -> threading.Thread:
    """`warm_up` in a daemon thread: the page is served meanwhile (it takes seconds when cold)."""

    def run() -> None:
        try:
            warm_up(settings)
        except Exception as err:  # a failed warm-up only makes the first click slower
            log.warning("warming up the place look-up failed: %s", err)

    thread = threading.Thread(target=run, name="ecomapper-warm-up", daemon=True)
    thread.start()
    # A process that exits while the warm-up is inside native code (GEOS, the land mask) can crash in
    # the interpreter's teardown ("corrupted double-linked list"): let it finish first.
    atexit.register(thread.join, WARM_UP_JOIN_S)
    return thread


@dataclass(frozen=True)
class PointView:
    point: Point
    place_label: str
    state: str | None
    country: str
    footprint_geojson: dict
    footprint_bbox: tuple[float, float, float, float]
    crs: str


def describe_point(point: Point, settings=None) -> PointView:
    """The place names (the admin-1 boundary containing the point, with `settings`) and the footprint."""
    place = services.place_of(point, settings)
    label = place.label()
    if place.nearest_place:
        label = f"near {place.nearest_place}, {label}"
    footprint = Footprint.around(point)
    return PointView(point, label, place.state, place.country, footprint.geojson(), footprint.bbox, footprint.crs)


@dataclass
class CompareView:
    """Today's climate and the scenario from the same seed, with the real image and metrics."""

    comparison: Any  # services.Comparison
    files: Any  # services.ExportedFiles of the scenario image


def generate_compare(request, engine, settings, folder: Path, stem: str, reference: np.ndarray | None,
                     progress=None, cancel=None) -> CompareView:  # fmt: skip
    """Generate the request under today's climate and under its scenario (same seed), compare, export."""
    comparison = services.compare(
        request, settings, engine=engine, real_image=reference, progress=progress, cancel=cancel
    )
    # the operator's settings carry the C2PA signing key: exported files get their content credentials
    files = services.export_image(
        comparison.scenario, folder / f"{stem}.png", recipe=folder / f"{stem}.recipe.json",
        geotiff=folder / f"{stem}.tif", settings=settings,
    )  # fmt: skip
    return CompareView(comparison=comparison, files=files)


def real_image(point: Point, month: Month, settings) -> np.ndarray:
    """The month's real image (a writable copy), `NoImageryError` when there is none."""
    return np.array(services.fetch_real_scene(point, month, settings).image, dtype=np.uint8)


def write_plain_png(image: np.ndarray, path: Path) -> Path:
    """The generated pixels alone (for the map overlay, which shows its label beside the map)."""
    from PIL import Image

    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path


def make_timelapse(request, path: Path, engine, settings, progress=None, cancel=None) -> tuple[Path, int]:
    """One labelled frame per month written as GIF/MP4; (its path, how many frames)."""
    result = services.make_timelapse(request, path, settings, engine=engine, progress=progress, cancel=cancel)
    return result.path, len(result.captions)


def make_grid(request, path: Path, engine, settings, progress=None, cancel=None) -> Path:
    """Temperature (rows) x precipitation (columns) as one headed, labelled PNG."""
    services.make_grid(request, settings, engine=engine, out=path, progress=progress, cancel=cancel)
    return path
