"""Build an EcoMapper-layout dataset for any places and months from Sentinel-2 (STAC) and NASA POWER.

For each location and month: the least-cloudy monthly scene (`core.sources.imagery.fetch_scene`), the
month's climate (`core.sources.climate`), the land cover (`core.sources.landcover`, or given) and the place name
(`core.sources.places`), written as `<out>/<loc>/<loc>_<YYYY-MM>.png` + `.json` with the keys of the
EcoMapper dataset, which `core.dataset.reader.read_dataset` reads back. Existing pairs are skipped, so an
interrupted build resumes; failures are skipped and listed in `<out>/build_failures.csv`, each with its kind:
a month with no usable scene ("no imagery", an expected outcome) or an error (a service, the place, the climate).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, CancelledError, EcoMapperError, NoImageryError
from core.geo import Month, Point
from core.io.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from core.io.safe_names import safe_name
from core.limits import MAX_LOCATION_ROWS

log = logging.getLogger(__name__)

FAILURES_FILE = "build_failures.csv"
LOCATIONS_FILE = "locations.csv"
FAILURE_COLUMNS = ("location_id", "month", "stage", "kind", "error")
# The kinds of failure: a month without a usable Sentinel-2 scene is what the sky gave, not a fault of the build.
NO_IMAGERY = "no imagery"
ERROR = "error"
# Whole land between these latitudes (Sentinel-2 covers 56 S to 84 N; polar caps are ice).
DEFAULT_SAMPLE_BBOX = (-180.0, -56.0, 180.0, 72.0)
# Candidates drawn per requested location when sampling (land cover is looked up for each).
SAMPLE_OVERDRAW = 4

Progress = Callable[[int, int, str], None]
Failure = tuple[str, str, str]  # (stage, kind, message) of one location-month that was not built


@dataclass(frozen=True)
class Location:
    """A place to build: its id (folder and file-name prefix), point and optional known land cover."""

    location_id: str
    point: Point
    land_cover: str | None = None

    def __post_init__(self) -> None:
        # "_" would break the <loc>_<YYYY-MM> file names; "/" or ".." would escape the folder.
        safe_name(self.location_id, "location id")
        if self.land_cover is not None:
            from core.sources.landcover import check_land_cover

            object.__setattr__(self, "land_cover", check_land_cover(self.land_cover))


@dataclass(frozen=True)
class BuildFailure:
    """One location-month that could not be built, the stage that failed, its kind (`NO_IMAGERY`, `ERROR`) and why."""

    location_id: str
    month: str
    stage: str
    kind: str
    error: str


@dataclass(frozen=True)
class BuildResult:
    """What a build did; `failures` are also in `<out_dir>/build_failures.csv`."""

    out_dir: Path
    written: tuple[Path, ...]
    skipped_existing: int
    failures: tuple[BuildFailure, ...] = field(default=())
    failures_path: Path | None = None

    @property
    def errors(self) -> tuple[BuildFailure, ...]:
        """The failures that are faults (a service, the place, the climate), not months without imagery."""
        return tuple(f for f in self.failures if f.kind != NO_IMAGERY)

    def failure_counts(self) -> dict[str, int]:
        """{kind: how many location-months}, no imagery first."""
        kinds = sorted({f.kind for f in self.failures}, key=lambda kind: (kind != NO_IMAGERY, kind))
        return {kind: sum(f.kind == kind for f in self.failures) for kind in kinds}


def read_locations_csv(path: str | Path) -> list[Location]:
    """Locations from a CSV with columns `lat`/`latitude`, `lon`/`longitude` and optionally
    `location_id` (default: the row number) and `land_cover`.

    Raises:
        BadRequestError: missing file or columns, bad numbers, duplicate ids (with the line number).
    """
    from core.io.inputs import check_input_file

    # a folder is "a folder", a FIFO is refused rather than read forever
    csv_path = check_input_file(path, "locations file", "Give a CSV with lat and lon columns.")
    try:
        locations = _read_location_rows(csv_path)
    except (UnicodeDecodeError, csv.Error) as err:
        raise BadRequestError(
            f"The locations file {csv_path} is not a text CSV ({err}).",
            "Give a UTF-8 CSV with columns lat, lon and optionally location_id, land_cover.",
        ) from err
    if not locations:
        raise BadRequestError(f"The locations file {csv_path} has no rows.", "Add at least one location.")
    return locations


def _read_location_rows(csv_path: Path) -> list[Location]:
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
        lat_col = columns.get("lat") or columns.get("latitude")
        lon_col = columns.get("lon") or columns.get("longitude")
        if not lat_col or not lon_col:
            raise BadRequestError(
                f"The locations file {csv_path} has no lat/lon columns (found: {', '.join(columns) or 'none'}).",
                "Give columns lat, lon and optionally location_id, land_cover.",
            )
        locations: list[Location] = []
        seen: set[str] = set()
        for line, row in enumerate(reader, start=2):
            if line - 1 > MAX_LOCATION_ROWS:
                raise BadRequestError(
                    f"The locations file {csv_path} has more than {MAX_LOCATION_ROWS:_} rows.",
                    "Split it into several datasets.",
                )
            try:
                lat, lon = float(row[lat_col]), float(row[lon_col])
            except (TypeError, ValueError) as err:
                raise BadRequestError(
                    f"{csv_path}:{line}: lat/lon {row.get(lat_col)!r}, {row.get(lon_col)!r} are not numbers.",
                    "Write decimal degrees.",
                ) from err
            location_id = (row.get(columns.get("location_id", ""), "") or "").strip() or str(line - 1)
            land_cover = (row.get(columns.get("land_cover", ""), "") or "").strip() or None
            if location_id in seen:
                raise BadRequestError(f"{csv_path}:{line}: location id {location_id!r} repeats.", "Make ids unique.")
            seen.add(location_id)
            try:
                locations.append(Location(location_id, Point(lat, lon), land_cover))
            except BadRequestError as err:
                raise BadRequestError(f"{csv_path}:{line}: {err.problem}", err.fix) from err
    return locations


def sample_locations(
    count: int,
    settings: Settings,
    seed: int = 0,
    bbox: tuple[float, float, float, float] = DEFAULT_SAMPLE_BBOX,
    max_workers: int = 4,
) -> list[Location]:
    """`count` random land points in `bbox`, stratified by land cover (classes drawn in turn).

    Points are uniform over the sphere's area within the box; sea points (GSHHG mask) and points
    whose land cover cannot be read are discarded. Classes take turns, so rare classes are not
    swamped by the common ones (as EcoMapper balanced its sampling).

    Raises:
        BadRequestError: bad count or box, or no land point with a known land cover was found.
    """
    from core.sources.landcover import lookup_land_cover
    from core.sources.places import is_on_land

    min_lon, min_lat, max_lon, max_lat = bbox
    if count < 1:
        raise BadRequestError(f"--sample {count} asks for no location.", "Give 1 or more.")
    if max_workers < 1:
        raise BadRequestError(f"max_workers={max_workers} is below 1.", "Use 1 or more parallel fetches.")
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise BadRequestError(f"The box {bbox} is not min_lon,min_lat,max_lon,max_lat.", "Give e.g. -10,35,5,45.")
    rng = random.Random(seed)
    low, high = math.sin(math.radians(min_lat)), math.sin(math.radians(max_lat))
    candidates: list[Point] = []
    attempts = 0
    while len(candidates) < count * SAMPLE_OVERDRAW and attempts < count * SAMPLE_OVERDRAW * 200:
        attempts += 1
        point = Point(math.degrees(math.asin(rng.uniform(low, high))), rng.uniform(min_lon, max_lon))
        if is_on_land(point):
            candidates.append(point)
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        lookups = list(pool.map(lambda p: _safe_land_cover(lookup_land_cover, p, settings), candidates))
    chosen = pick_stratified(list(zip(candidates, lookups, strict=True)), count)
    if not chosen:
        raise BadRequestError(
            f"None of {len(candidates)} land points sampled in {bbox} has a readable land cover.",
            "Check the land-cover service (ECOMAPPER_LANDCOVER_STAC_URL), or give --locations with land_cover.",
        )
    if len(chosen) < count:
        log.warning("only %d of %d locations found with a land cover in %s", len(chosen), count, bbox)
    return chosen


def pick_stratified(candidates: list[tuple[Point, str | None]], count: int) -> list[Location]:
    """Up to `count` locations, the land-cover classes taking turns (in the order of the 15 classes).

    Candidates without a class are left out; within a class the candidates keep their order.
    """
    from core.sources.landcover import LAND_COVER_CLASSES

    by_class: dict[str, list[Point]] = {}
    for point, land_cover in candidates:
        if land_cover is not None:
            by_class.setdefault(land_cover, []).append(point)
    order = [name for name in LAND_COVER_CLASSES if name in by_class]
    chosen: list[Location] = []
    while len(chosen) < count and any(by_class[name] for name in order):
        for name in order:
            if by_class[name] and len(chosen) < count:
                chosen.append(Location(str(len(chosen) + 1), by_class[name].pop(0), name))
    return chosen


def _safe_land_cover(lookup: Callable, point: Point, settings: Settings) -> str | None:
    try:
        return lookup(point, settings).land_cover
    except EcoMapperError as err:
        log.info("no land cover at %s: %s", point.label(), err)
        return None


def sample_paths(out_dir: Path, location_id: str, month: Month) -> tuple[Path, Path]:
    """The PNG and JSON of one location-month in the EcoMapper layout."""
    location_id = safe_name(location_id, "location id")
    stem = f"{location_id}_{month}"
    return out_dir / location_id / f"{stem}.png", out_dir / location_id / f"{stem}.json"


def build_dataset(
    locations: list[Location],
    months: list[Month],
    out_dir: str | Path,
    settings: Settings,
    max_workers: int = 4,
    size_px: int = 512,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    scheduler: str = "",
) -> BuildResult:
    """Fetch and write every location-month that is not on disk yet.

    Steps: 1. what is missing; 2. per location, once: place name, land cover, climate series, then per
    missing month the scene, the PNG and the JSON (JSON last, so a pair is complete when both exist),
    in this process's threads or as one task per (place, missing months) on a dask cluster; 3.
    `locations.csv` and the failures list. Both ways write the same bytes.

    Args:
        locations: where (ids become folder names).
        months: which months.
        out_dir: dataset root (on a cluster: a folder every worker sees at the same path).
        settings: endpoints and cache (every fetch is cached on disk, so reruns are cheap).
        max_workers: parallel fetches at most (in this process).
        size_px: image side (EcoMapper: 512).
        progress: optional callable(done, total, message), per location-month.
        cancel: optional event; pending jobs are dropped and `CancelledError` raised.
        scheduler: "" (this process), `local:N` or `tcp://host:8786` (`core.io.dask_cluster`).

    Returns:
        `BuildResult`; failures are also written to `<out_dir>/build_failures.csv`.
    """
    from core.io.dask_cluster import check_scheduler

    if not locations or not months:
        raise BadRequestError("Nothing to build: no locations or no months.", "Give --locations/--sample and months.")
    if max_workers < 1:
        raise BadRequestError(f"max_workers={max_workers} is below 1.", "Use 1 or more parallel fetches.")
    if size_px < 1:
        raise BadRequestError(f"The image size {size_px} px is not positive.", "Use 512 (EcoMapper's size).")
    scheduler = check_scheduler(scheduler)
    # absolute, so that workers started elsewhere write where this process looks
    root = Path(out_dir).absolute()
    root.mkdir(parents=True, exist_ok=True)
    missing = {loc.location_id: _missing_months(root, loc, months) for loc in locations}
    missing = {location_id: todo for location_id, todo in missing.items() if todo}
    skipped = len(locations) * len(months) - sum(len(m) for m in missing.values())
    run = _Run(root, months, settings, size_px, sum(len(m) for m in missing.values()), progress, cancel)
    try:
        if scheduler:
            from core.dataset.cluster_build import build_on_cluster

            places = [loc for loc in locations if loc.location_id in missing]
            build_on_cluster(build_place_batch, run, places, missing, scheduler)
        else:
            _build_in_threads(run, locations, missing, max_workers)
    finally:
        _write_locations(root, locations, run.contexts)
        failures_path = _write_failures(root, run.failures)
    failures = sorted(run.failures, key=lambda f: (f.location_id, f.month))
    log.info("dataset %s: %d written, %d already there, %d failed", root, len(run.written), skipped, len(failures))
    return BuildResult(root, tuple(sorted(run.written)), skipped, tuple(failures), failures_path)


@dataclass
class _Run:
    """One build's fixed inputs and what it has gathered so far (filled by either way of building)."""

    root: Path
    months: list[Month]
    settings: Settings
    size_px: int
    total: int
    progress: Progress | None
    cancel: threading.Event | None
    contexts: dict[str, _LocationContext] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    failures: list[BuildFailure] = field(default_factory=list)
    done: int = 0

    def record(self, loc: Location, month: Month | str, path: Path | None, failure: Failure | None) -> None:
        """Count one finished location-month and report progress."""
        self.done += 1
        if failure is not None:
            self.failures.append(BuildFailure(loc.location_id, str(month), *failure))
        elif path is not None:
            self.written.append(path)
        if self.progress:
            self.progress(self.done, self.total, f"{loc.location_id} {month}")

    def record_error(self, loc: Location, month: Month | str, stage: str, message: str) -> None:
        """Count one location-month that failed with an error (a lost cluster worker, ...)."""
        self.record(loc, month, None, (stage, ERROR, message))

    def check_cancel(self, pending: Any) -> None:
        if self.cancel is not None and self.cancel.is_set():
            for job in pending:
                job.cancel()
            raise CancelledError(
                f"Dataset build cancelled after {self.done} of {self.total} location-months.",
                "Run the same command again: finished months are kept and skipped.",
            )


def _missing_months(root: Path, loc: Location, months: list[Month]) -> list[Month]:
    return [m for m in months if not all(path.is_file() for path in sample_paths(root, loc.location_id, m))]


def _build_in_threads(run: _Run, locations: list[Location], missing: dict[str, list[Month]], max_workers: int) -> None:
    """This process: contexts, then every missing location-month, on a thread pool (fetches are I/O)."""
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {
            pool.submit(_location_context, loc, run.months, run.settings): loc
            for loc in locations
            if loc.location_id in missing
        }
        for future in as_completed(futures):
            loc = futures[future]
            context, failure = future.result()
            if failure is None:
                run.contexts[loc.location_id] = context
                continue
            for month in missing[loc.location_id]:
                run.record(loc, month, None, failure)
        jobs = {
            pool.submit(_build_one, run.root, loc, month, run.contexts[loc.location_id], run.settings, run.size_px): (
                loc,
                month,
            )
            for loc in locations
            if loc.location_id in run.contexts
            for month in missing[loc.location_id]
        }
        for future in as_completed(jobs):
            loc, month = jobs[future]
            path, failure = future.result()
            with lock:
                run.record(loc, month, path, failure)
            run.check_cancel(jobs)


@dataclass(frozen=True)
class PlaceBatch:
    """What one (place, months) task did: its context (None if it failed) and per month a path or a failure."""

    location_id: str
    context: _LocationContext | None
    outcomes: tuple[tuple[str, Path | None, Failure | None], ...]


def build_place_batch(root: Path, loc: Location, months: list[Month], settings: Settings, size_px: int) -> PlaceBatch:
    """One place's months that are not on disk, start to finish: the unit of work a cluster worker runs.

    Idempotent: a month whose PNG and JSON are already there (also after a task is rerun because a
    worker was lost) is neither fetched nor written again, and is not in `outcomes`.
    """
    todo = _missing_months(root, loc, months)
    if not todo:
        return PlaceBatch(loc.location_id, None, ())
    context, failure = _location_context(loc, months, settings)
    if failure is not None:
        return PlaceBatch(loc.location_id, None, tuple((str(m), None, failure) for m in todo))
    outcomes = tuple((str(m), *_build_one(root, loc, m, context, settings, size_px)) for m in todo)
    return PlaceBatch(loc.location_id, context, outcomes)


@dataclass(frozen=True)
class _LocationContext:
    land_cover: str
    land_cover_source: str
    state: str | None
    country: str
    country_code: str
    climate: dict[str, tuple[ClimateValues | None, str, str]]  # month -> (values, source, error)


def _location_context(
    loc: Location, months: list[Month], settings: Settings
) -> tuple[_LocationContext | None, Failure | None]:
    from core.sources.climate import climate_for_month, fetch_climate
    from core.sources.landcover import lookup_land_cover
    from core.sources.places import reverse_geocode

    stage = "place"
    try:
        place = reverse_geocode(loc.point, settings)
        stage = "land cover"
        if loc.land_cover is not None:
            land_cover, land_source = loc.land_cover, "given"
        else:
            lookup = lookup_land_cover(loc.point, settings)
            if lookup.land_cover is None:
                return None, (stage, ERROR, f"{lookup.message} Add a land_cover column to the locations CSV.")
            land_cover, land_source = lookup.land_cover, lookup.source
        stage = "climate"
        series = fetch_climate(loc.point, min(months), max(months), settings)
    except EcoMapperError as err:
        return None, (stage, ERROR, str(err))
    climate: dict[str, tuple[ClimateValues | None, str, str]] = {}
    for month in months:
        try:
            source = _climate_source(series, month)
            climate[str(month)] = (climate_for_month(series, month), source, "")
        except EcoMapperError as err:
            climate[str(month)] = (None, "", str(err))
    context = _LocationContext(land_cover, land_source, place.state, place.country, place.country_code, climate)
    return context, None


def _climate_source(series: Any, month: Month) -> str:
    import numpy as np

    if "source" not in series:
        return ""
    return str(series["source"].sel(time=np.datetime64(month.first_day.isoformat(), "ns")).item())


def _build_one(
    root: Path, loc: Location, month: Month, context: _LocationContext, settings: Settings, size_px: int
) -> tuple[Path | None, Failure | None]:
    from core.sources.imagery import encode_png, fetch_scene

    climate, climate_source, climate_error = context.climate[str(month)]
    if climate is None:
        return None, ("climate", ERROR, climate_error)
    try:
        scene = fetch_scene(loc.point, month, settings, size_px=size_px)
    except NoImageryError as err:
        return None, ("scene", NO_IMAGERY, str(err))
    except EcoMapperError as err:
        return None, ("scene", ERROR, str(err))
    png_path, json_path = sample_paths(root, loc.location_id, month)
    record = ecomapper_record(loc, month, context, climate, scene.cloud_fraction)
    record["source"] = {**scene.to_metadata(), "climate": climate_source, "land_cover": context.land_cover_source}
    # PNG first, JSON last: the reader needs both, and the builder skips only complete pairs.
    atomic_write_bytes(png_path, encode_png(scene.image))
    atomic_write_json(json_path, record)
    return png_path, None


def ecomapper_record(
    loc: Location, month: Month, context: Any, climate: ClimateValues, cloud_fraction: float
) -> dict[str, Any]:
    """The JSON of one sample with the EcoMapper dataset's keys (see fixtures/ecomapper_example)."""
    from core.generation.prompts import MONTH_NAMES, climate_words, cloud_phrase

    temp, precip, solar = climate.temp_c, climate.precip_mm_day, climate.solar_mj_m2_day
    address = f"{context.state}, {context.country}" if context.state else context.country
    # "kWh/m2" is what the EcoMapper captions say; the values are MJ/m^2/day (NASA POWER AG).
    return {
        "type": context.land_cover,
        "country_code": context.country_code or "null",
        "date": str(month),
        "center_coordinates": [loc.point.lat, loc.point.lon],
        "cloud_coverage": float(cloud_fraction),
        # Full-precision values beside the EcoMapper caption strings (which round to 2 decimals).
        "climate_values": climate.as_dict(),
        "caption_info": {
            "date": f"{MONTH_NAMES[month.month - 1]}, {month.year}",
            "location_address": address,
            "landscape_type": context.land_cover,
            "cloud_info": cloud_phrase(cloud_fraction).strip(),
            "climate_str_1": (
                f"The average temperature over the last month was {temp:.2f} C with an average precipitation "
                f"of {precip:.2f} mm and an average daily solar radiation of {solar:.2f} kWh/m2"
            ),
            "climate_str_2": (
                f"Average values for the last month: temperature: {temp:.2f} C, precipitation: {precip:.2f} mm, "
                f"solar radiation: {solar:.2f} kWh/m2"
            ),
            "climate_str_3": list(climate_words(climate)),
        },
    }


def _write_locations(root: Path, locations: list[Location], contexts: dict[str, _LocationContext]) -> None:
    """`locations.csv`: where each folder is; rows of locations not refetched this run are kept."""
    columns = ["location_id", "lat", "lon", "land_cover", "state", "country"]
    previous: dict[str, dict[str, str]] = {}
    if (root / LOCATIONS_FILE).is_file():
        with (root / LOCATIONS_FILE).open(newline="", encoding="utf-8") as handle:
            previous = {row["location_id"]: row for row in csv.DictReader(handle)}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for loc in locations:
        context = contexts.get(loc.location_id)
        row = {"location_id": loc.location_id, "lat": loc.point.lat, "lon": loc.point.lon}
        if context is not None:
            row.update(land_cover=context.land_cover, state=context.state or "", country=context.country)
        else:
            old = previous.get(loc.location_id, {})
            row.update(
                land_cover=old.get("land_cover") or loc.land_cover or "",
                state=old.get("state", ""),
                country=old.get("country", ""),
            )
        writer.writerow(row)
    _write_if_changed(root / LOCATIONS_FILE, buffer.getvalue())


def _write_failures(root: Path, failures: list[BuildFailure]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FAILURE_COLUMNS)
    for failure in sorted(failures, key=lambda f: (f.location_id, f.month)):
        writer.writerow([failure.location_id, failure.month, failure.stage, failure.kind, failure.error])
    return _write_if_changed(root / FAILURES_FILE, buffer.getvalue())


def _write_if_changed(path: Path, text: str) -> Path:
    """Rewrite `path` only when its text changes, so a rerun that builds nothing touches no file."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return path
    return atomic_write_text(path, text)
