"""The Pangeo CMIP6 intake-ESM catalog (a CSV of Zarr stores): fetched once, cut to what we read, cached.

The real catalog lists ~500,000 stores (~100 MB); we keep only the monthly `tas`, `pr`, `rsds` of
the historical and SSP runs and the models' land fractions (`fx` `sftlf`), a few thousand rows.
Columns (docs/cmip6.md): activity_id, institution_id, source_id, experiment_id, member_id,
table_id, variable_id, grid_label, zstore, dcpp_init_year, version.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.errors import OfflineCacheMissError, UpstreamError
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient
from core.sources.projections.periods import HISTORICAL, SSPS

log = logging.getLogger(__name__)

SERVICE = "CMIP6 catalog"
REQUIRED_COLUMNS = ("source_id", "experiment_id", "member_id", "table_id", "variable_id", "grid_label", "zstore")
KEPT_COLUMNS = ("institution_id", *REQUIRED_COLUMNS, "version")
MONTHLY_TABLE = "Amon"
FIXED_TABLE = "fx"
LAND_FRACTION = "sftlf"  # percentage of the grid cell that is land
CLIMATE_VARIABLES = ("tas", "pr", "rsds")
# Native grids first: "gn" is the model's own grid, "gr*" a regridded copy.
GRID_PREFERENCE = ("gn", "gr", "gr1", "gr2")
PREFERRED_MEMBER = "r1i1p1f1"
# The cut catalog is reused this long before the full one is fetched again (Pangeo adds stores slowly).
CATALOG_MAX_AGE_S = 7 * 24 * 3600.0
_MEMBER_RE = re.compile(r"r(\d+)i(\d+)p(\d+)f(\d+)")


@dataclass(frozen=True)
class StoreEntry:
    """One row of the catalog: one variable of one run, as one Zarr store."""

    institution_id: str
    source_id: str
    experiment_id: str
    member_id: str
    table_id: str
    variable_id: str
    grid_label: str
    zstore: str
    version: str = ""


@dataclass(frozen=True)
class ModelRuns:
    """The stores one model contributes to a projection: the same member and grid for every part."""

    source_id: str
    institution_id: str
    member_id: str
    grid_label: str
    # (experiment_id, variable_id) -> zstore, for historical and the SSP, tas/pr/rsds.
    stores: dict[tuple[str, str], str] = field(hash=False, compare=True)
    land_fraction_store: str | None = None

    def store(self, experiment_id: str, variable_id: str) -> str:
        return self.stores[(experiment_id, variable_id)]


@dataclass(frozen=True)
class Catalog:
    entries: tuple[StoreEntry, ...]
    url: str

    def model_runs(self, ssp: str) -> tuple[list[ModelRuns], dict[str, str]]:
        """Per model, the member and grid that have tas, pr and rsds for `historical` and `ssp`.

        Returns:
            (runs sorted by model, {model: why it was left out}) - a model lacking a variable or the
            scenario is reported, never silently dropped.
        """
        by_model: dict[str, list[StoreEntry]] = defaultdict(list)
        for entry in self.entries:
            by_model[entry.source_id].append(entry)
        runs, skipped = [], {}
        for source_id in sorted(by_model):
            found = _choose_run(source_id, by_model[source_id], ssp)
            if isinstance(found, str):
                skipped[source_id] = found
            else:
                runs.append(found)
        return runs, skipped

    def experiments(self) -> set[str]:
        return {entry.experiment_id for entry in self.entries}


def _member_order(member_id: str) -> tuple:
    match = _MEMBER_RE.fullmatch(member_id)
    numbers = tuple(int(g) for g in match.groups()) if match else (10**6,)
    return (member_id != PREFERRED_MEMBER, numbers, member_id)


def _grid_order(grid_label: str) -> tuple:
    return (GRID_PREFERENCE.index(grid_label) if grid_label in GRID_PREFERENCE else len(GRID_PREFERENCE), grid_label)


def _choose_run(source_id: str, entries: list[StoreEntry], ssp: str) -> ModelRuns | str:
    monthly = [e for e in entries if e.table_id == MONTHLY_TABLE and e.variable_id in CLIMATE_VARIABLES]
    needed = [(experiment, variable) for experiment in (HISTORICAL, ssp) for variable in CLIMATE_VARIABLES]
    # (member, grid) -> {(experiment, variable): newest entry}
    candidates: dict[tuple[str, str], dict[tuple[str, str], StoreEntry]] = defaultdict(dict)
    for entry in monthly:
        slot = candidates[(entry.member_id, entry.grid_label)]
        key = (entry.experiment_id, entry.variable_id)
        if key not in slot or entry.version > slot[key].version:
            slot[key] = entry
    complete = [mg for mg, slot in candidates.items() if all(k in slot for k in needed)]
    if not complete:
        return _why_incomplete(monthly, ssp)
    member_id, grid_label = min(complete, key=lambda mg: (_member_order(mg[0]), _grid_order(mg[1])))
    slot = candidates[(member_id, grid_label)]
    land = [e for e in entries if e.table_id == FIXED_TABLE and e.variable_id == LAND_FRACTION]
    land_same_grid = sorted(
        (e for e in land if e.grid_label == grid_label),
        key=lambda e: (e.member_id != member_id, e.experiment_id != HISTORICAL, _member_order(e.member_id)),
    )
    return ModelRuns(
        source_id=source_id,
        institution_id=slot[needed[0]].institution_id,
        member_id=member_id,
        grid_label=grid_label,
        stores={key: slot[key].zstore for key in needed},
        land_fraction_store=land_same_grid[0].zstore if land_same_grid else None,
    )


def _why_incomplete(monthly: list[StoreEntry], ssp: str) -> str:
    have = {(e.experiment_id, e.variable_id) for e in monthly}
    experiments = {e.experiment_id for e in monthly}
    if ssp not in experiments:
        return f"no {ssp} run"
    if HISTORICAL not in experiments:
        return "no historical run"
    missing = sorted(
        {v for v in CLIMATE_VARIABLES for x in (HISTORICAL, ssp) if (x, v) not in have},
        key=CLIMATE_VARIABLES.index,
    )
    if missing:
        return f"lacks {', '.join(missing)} (monthly) for {HISTORICAL} or {ssp}"
    return f"no single member and grid has tas, pr and rsds for both {HISTORICAL} and {ssp}"


def parse_catalog(data: bytes | str, url: str = "") -> list[StoreEntry]:
    """The rows of an intake-ESM CMIP6 CSV that a projection can use.

    Raises:
        UpstreamError: the text is not a catalog with the expected columns.
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UpstreamError(
            f"{SERVICE} at {url or 'the given location'} lacks the column(s) {', '.join(missing)} "
            f"(found: {', '.join(sorted(columns))[:200] or 'nothing'}).",
            "Point ECOMAPPER_CMIP6_CATALOG_URL at a Pangeo CMIP6 intake-ESM CSV (e.g. pangeo-cmip6.csv).",
            service=SERVICE,
            url=url,
        )
    wanted_experiments = {HISTORICAL, *SSPS}
    entries = []
    for row in reader:
        table, variable = row["table_id"], row["variable_id"]
        experiment = row["experiment_id"]
        monthly = table == MONTHLY_TABLE and variable in CLIMATE_VARIABLES and experiment in wanted_experiments
        land = table == FIXED_TABLE and variable == LAND_FRACTION
        if monthly or land:
            entries.append(StoreEntry(**{c: (row.get(c) or "").strip() for c in KEPT_COLUMNS}))
    return entries


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def load_catalog(settings: Settings, client: HttpClient | None = None) -> Catalog:
    """The catalog at `settings.cmip6_catalog_url` (an HTTPS URL or a local file), cut and cached.

    Online, a cut catalog older than a week is refreshed; if the refresh fails the cached one is
    used (with a warning). Offline, only the cache is used.

    Raises:
        UpstreamError: the catalog cannot be fetched and none is cached, or it is not a catalog.
        OfflineCacheMissError: offline mode and nothing cached.
    """
    url = settings.cmip6_catalog_url
    if _is_local(url):
        path = Path(url.removeprefix("file://")).expanduser()
        try:
            return Catalog(tuple(parse_catalog(path.read_bytes(), str(path))), str(path))
        except OSError as err:
            raise UpstreamError(
                f"Cannot read the CMIP6 catalog file {path}: {err.strerror or err}.",
                "Set ECOMAPPER_CMIP6_CATALOG_URL to an existing CSV or to the Pangeo catalog URL.",
                service=SERVICE,
                url=str(path),
            ) from err
    cache = DiskCache(settings.cache_dir, "cmip6")
    key = request_key("cmip6-catalog-v1", url)
    stored = cache.get_json(key)
    fresh = stored is not None and time.time() - stored.get("fetched_at", 0) < CATALOG_MAX_AGE_S
    if stored is not None and (fresh or settings.offline):
        return _from_record(stored, url)
    if settings.offline:
        raise OfflineCacheMissError(
            f"Offline mode is on and the CMIP6 catalog {url} is not in the cache ({settings.cache_dir}).",
            "Run one projection while connected (the catalog is then kept), or unset ECOMAPPER_OFFLINE.",
            service=SERVICE,
            url=url,
        )
    try:
        # Not kept in the HTTP cache: ~100 MB for the real catalog, of which we keep a few thousand rows.
        response = (client or HttpClient(settings)).request("GET", url, service=SERVICE, use_cache=False)
        entries = parse_catalog(response.content, url)
    except UpstreamError as err:
        if stored is None:
            raise
        log.warning("could not refresh the CMIP6 catalog (%s); using the cached copy", err)
        return _from_record(stored, url)
    cache.put_json(key, {"fetched_at": time.time(), "rows": [_row(e) for e in entries]})
    return Catalog(tuple(entries), url)


def _row(entry: StoreEntry) -> list[str]:
    return [getattr(entry, c) for c in KEPT_COLUMNS]


def _from_record(record: dict, url: str) -> Catalog:
    return Catalog(tuple(StoreEntry(*row) for row in record["rows"]), url)


def describe_runs(runs: Iterable[ModelRuns]) -> str:
    return ", ".join(f"{r.source_id} ({r.member_id}, {r.grid_label})" for r in runs)
