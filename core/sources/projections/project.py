"""Projected monthly climate at a place: CMIP6 deltas per model, applied to the observed NASA POWER normals.

    projection = project_climate(Point(24.8, -11.4), "ssp245", 2050, settings)
    projection.values(month=7, statistic="median")   # ClimateValues for July around 2050

Steps: (1) validate the scenario, horizon and place; (2) pick per model the runs that have tas,
pr and rsds for historical and the SSP (catalog); (3) per model, nearest land cell and the
monthly climatologies of 1995-2014 and of the horizon's 20 years (only those chunks are read;
cached); (4) the change per calendar month (delta.py); (5) the observed monthly normals; (6)
every model's change applied to them; the ensemble median and 10th-90th percentiles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import UpstreamError
from core.geo import Month, Point
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient
from core.sources.projections.catalog import CLIMATE_VARIABLES, ModelRuns, load_catalog
from core.sources.projections.delta import (
    VARIABLE_NAMES,
    MonthlyChange,
    climate_values,
    ensemble_statistics,
)
from core.sources.projections.model_climate import (
    GridCell,
    ModelDataError,
    cell_climatology,
    grid_axes,
    land_from_fraction,
    land_mask_at_centres,
    nearest_land_cell,
)
from core.sources.projections.periods import (
    BASELINE_YEARS,
    HISTORICAL,
    SSPS,
    STATISTICS,
    Period,
    check_ssp,
    check_statistic,
    period_for,
)
from core.sources.projections.store import open_cmip6_store

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
MODEL_WORKERS = 4
MONTHS = tuple(range(1, 13))


@dataclass(frozen=True)
class ModelProjection:
    """One model's contribution: where it was read, its climatologies and the change they imply."""

    source_id: str
    member_id: str
    grid_label: str
    cell: GridCell
    baseline: dict[str, tuple[float, ...]]  # CMIP6 variable -> 12 monthly means, project units
    future: dict[str, tuple[float, ...]]
    change: MonthlyChange


@dataclass(frozen=True)
class Projection:
    """The projected climate of a place for the 12 calendar months, per model and as an ensemble."""

    point: Point
    ssp: str
    period: Period
    baseline_years: tuple[int, int]
    observed_years: tuple[int, int]
    observed: tuple[ClimateValues, ...]  # 12 months, index 0 = January
    models: tuple[ModelProjection, ...]
    skipped: dict[str, str]  # model -> why it is not in the ensemble

    def __post_init__(self) -> None:
        if len(self.observed) != 12 or not self.models:
            raise ValueError("a Projection needs 12 observed months and at least one model")

    @property
    def scenario_label(self) -> str:
        return SSPS[self.ssp]

    def per_model(self) -> np.ndarray:
        """(models, 12, 3): each model's change applied to the observed normals."""
        return np.array([[m.change.apply(self.observed[i], i + 1) for i in range(12)] for m in self.models])

    def statistics(self) -> dict[str, np.ndarray]:
        return ensemble_statistics(self.per_model())

    def values(self, month: int, statistic: str = "median") -> ClimateValues:
        """The ensemble `statistic` ("median", "p10", "p90") of calendar `month` (1..12)."""
        check_statistic(statistic)
        return climate_values(self.statistics()[statistic][month - 1])

    def delta(self, month: int, statistic: str = "median") -> dict[str, float]:
        """Ensemble change of `month` against the observed normal (°C, mm/day, MJ m-2 day-1)."""
        projected = self.values(month, statistic)
        observed = self.observed[month - 1]
        return {name: getattr(projected, name) - getattr(observed, name) for name in VARIABLE_NAMES}

    def as_dict(self) -> dict:
        """JSON-safe summary (what outputs record beside the observed climate)."""
        stats = self.statistics()
        return {
            "latitude": self.point.lat,
            "longitude": self.point.lon,
            "ssp": self.ssp,
            "scenario": self.scenario_label,
            "horizon": self.period.horizon,
            "period": [self.period.start_year, self.period.end_year],
            "baseline_years": list(self.baseline_years),
            "observed_years": list(self.observed_years),
            "models": [
                {
                    "source_id": m.source_id,
                    "member_id": m.member_id,
                    "grid_label": m.grid_label,
                    "cell_lat": m.cell.lat,
                    "cell_lon": m.cell.lon,
                    "cell_distance_km": round(m.cell.distance_km, 1),
                    "land_source": m.cell.land_source,
                }
                for m in self.models
            ],
            "skipped": dict(self.skipped),
            "months": [
                {
                    "month": month,
                    "observed": self.observed[month - 1].as_dict(),
                    **{s: dict(zip(VARIABLE_NAMES, map(float, stats[s][month - 1]), strict=True)) for s in STATISTICS},
                }
                for month in MONTHS
            ],
        }

    def to_dataset(self):
        """xarray.Dataset with dims (model, month): the per-model projected values and the ensemble."""
        import xarray as xr

        per_model = self.per_model()
        stats = self.statistics()
        data = {}
        for k, name in enumerate(VARIABLE_NAMES):
            data[name] = (("model", "month"), per_model[:, :, k])
            data[f"observed_{name}"] = (("month",), [getattr(v, name) for v in self.observed])
            for statistic in STATISTICS:
                data[f"{name}_{statistic}"] = (("month",), stats[statistic][:, k])
        return xr.Dataset(
            data,
            coords={"model": [m.source_id for m in self.models], "month": list(MONTHS)},
            attrs={"ssp": self.ssp, "horizon": self.period.horizon, "period": self.period.label()},
        )


def observed_normals(
    point: Point, years: tuple[int, int], settings: Settings, client: HttpClient | None = None
) -> tuple[ClimateValues, ...]:
    """The place's NASA POWER mean of each calendar month over `years` (12 ClimateValues).

    Raises:
        UpstreamError: POWER has no value for some calendar month in those years.
    """
    from core.sources.climate import fetch_climate

    ds = fetch_climate(point, Month(years[0], 1), Month(years[1], 12), settings, client=client)
    months = ds["time"].dt.month.values
    normals = []
    for month in MONTHS:
        row = []
        for name in VARIABLE_NAMES:
            values = np.asarray(ds[name].values, dtype="float64")[months == month]
            values = values[np.isfinite(values)]
            if values.size == 0:
                raise UpstreamError(
                    f"NASA POWER has no {name} for month {month} in {years[0]}-{years[1]} at {point.label()}.",
                    "Try another place, or other observed years.",
                    service="NASA POWER",
                )
            row.append(float(values.mean()))
        normals.append(ClimateValues(*row))
    return tuple(normals)


def _model_cache_key(runs: ModelRuns, ssp: str, point: Point, period: Period, baseline: tuple[int, int]) -> str:
    stores = sorted(runs.stores[(x, v)] for x in (HISTORICAL, ssp) for v in CLIMATE_VARIABLES)
    return request_key(
        "cmip6-model-v1", stores, runs.land_fraction_store, round(point.lat, 4), round(point.lon, 4),
        period.start_year, period.end_year, list(baseline),
    )  # fmt: skip


def _land_cell(runs: ModelRuns, lats, lons, point: Point, settings: Settings, client: HttpClient | None) -> GridCell:
    if runs.land_fraction_store:
        try:
            land = land_from_fraction(open_cmip6_store(runs.land_fraction_store, settings, client), lats, lons)
            return nearest_land_cell(lats, lons, point, land, "sftlf")
        except ModelDataError as err:
            log.info("%s: land fraction unusable (%s); using the GSHHG mask", runs.source_id, err)
    return nearest_land_cell(lats, lons, point, land_mask_at_centres(lats, lons), "landmask")


def model_projection(
    runs: ModelRuns,
    ssp: str,
    point: Point,
    period: Period,
    settings: Settings,
    client: HttpClient | None = None,
    baseline_years: tuple[int, int] = BASELINE_YEARS,
) -> ModelProjection:
    """One model's climatologies at the nearest land cell and its monthly change (cached on disk).

    Raises:
        ModelDataError: this model's stores cannot serve the projection (it is left out).
        UpstreamError: a store cannot be reached (and nothing is cached).
    """
    cache = DiskCache(settings.cache_dir, "cmip6")
    key = _model_cache_key(runs, ssp, point, period, baseline_years)
    stored = cache.get_json(key)
    if stored is None:
        stored = _read_model(runs, ssp, point, period, settings, client, baseline_years)
        cache.put_json(key, stored)
    baseline = {v: tuple(stored["baseline"][v]) for v in CLIMATE_VARIABLES}
    future = {v: tuple(stored["future"][v]) for v in CLIMATE_VARIABLES}
    return ModelProjection(
        source_id=runs.source_id,
        member_id=runs.member_id,
        grid_label=runs.grid_label,
        cell=GridCell(**stored["cell"]),
        baseline=baseline,
        future=future,
        change=MonthlyChange.from_climatologies(
            {v: np.array(x) for v, x in baseline.items()}, {v: np.array(x) for v, x in future.items()}
        ),
    )


def _read_model(runs, ssp, point, period, settings, client, baseline_years) -> dict:
    keys = [(x, v) for x in (HISTORICAL, ssp) for v in CLIMATE_VARIABLES]
    # Opening a store is a few small sequential GETs: open the six at once.
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        opened = pool.map(lambda key: open_cmip6_store(runs.store(*key), settings, client), keys)
        datasets = dict(zip(keys, opened, strict=True))
    lats, lons = grid_axes(datasets[(HISTORICAL, "tas")])
    for (experiment, variable), ds in datasets.items():
        other_lats, other_lons = grid_axes(ds)
        if (
            other_lats.shape != lats.shape
            or other_lons.shape != lons.shape
            or not (np.allclose(other_lats, lats) and np.allclose(other_lons, lons))
        ):
            raise ModelDataError(f"{experiment} {variable} is on another grid than historical tas.", "Left out.")
    cell = _land_cell(runs, lats, lons, point, settings, client)
    baseline = {
        v: cell_climatology(datasets[(HISTORICAL, v)], v, cell, *baseline_years, HISTORICAL).tolist()
        for v in CLIMATE_VARIABLES
    }
    future = {
        v: cell_climatology(datasets[(ssp, v)], v, cell, period.start_year, period.end_year, ssp).tolist()
        for v in CLIMATE_VARIABLES
    }
    return {"cell": cell.__dict__, "baseline": baseline, "future": future}


def project_climate(
    point: Point,
    ssp: str,
    horizon: int,
    settings: Settings,
    *,
    client: HttpClient | None = None,
    observed: tuple[ClimateValues, ...] | None = None,
    observed_years: tuple[int, int] = BASELINE_YEARS,
    progress: Progress | None = None,
) -> Projection:
    """The CMIP6 ensemble projection of a place's monthly climate for an SSP and a horizon year.

    Args:
        point: a place on land.
        ssp: "ssp126", "ssp245", "ssp370" or "ssp585" (or "SSP2-4.5", ...).
        horizon: a year in 2015..2100 (2050, 2075, 2100 are the paper's horizons).
        settings: catalog, store mirror, cache, offline mode.
        client: an HttpClient to reuse.
        observed: the 12 observed monthly normals (default: NASA POWER over `observed_years`).
        observed_years: the years of the observed normals (default 1995-2014, the models' baseline);
            with `observed` given, the years they were computed over (recorded only).
        progress: called as progress(done, total, message) after each model.

    Raises:
        BadRequestError: unknown SSP, horizon outside 2015-2100, a point at sea.
        UpstreamError: the catalog or a store is unreachable and nothing is cached, or no model
            has what the projection needs.
    """
    from core.sources.places import ensure_on_land

    ssp = check_ssp(ssp)
    period = period_for(horizon)
    ensure_on_land(point)
    if observed is not None and len(observed) != 12:
        raise ValueError("observed must hold 12 monthly ClimateValues")
    client = client or HttpClient(settings)
    runs, skipped = load_catalog(settings, client).model_runs(ssp)
    found: dict[str, ModelProjection] = {}
    # Models are independent and their reads are latency-bound: a few at a time.
    with ThreadPoolExecutor(max_workers=MODEL_WORKERS) as pool:
        futures = {
            pool.submit(model_projection, model_runs, ssp, point, period, settings, client): model_runs.source_id
            for model_runs in runs
        }
        for done, future in enumerate(as_completed(futures), start=1):
            source_id = futures[future]
            try:
                found[source_id] = future.result()
            except ModelDataError as err:
                skipped[source_id] = err.problem
                log.warning("%s left out of the %s ensemble: %s", source_id, ssp, err.problem)
            if progress:
                progress(done, len(runs), f"CMIP6 {source_id} ({done}/{len(runs)})")
    models = [found[r.source_id] for r in runs if r.source_id in found]
    if not models:
        reasons = "; ".join(f"{m}: {why}" for m, why in sorted(skipped.items())) or "the catalog lists no model"
        raise UpstreamError(
            f"No CMIP6 model has monthly tas, pr and rsds for historical and {ssp} ({reasons}).",
            "Pick another scenario (ssp245 and ssp585 have the most models).",
            service="CMIP6 catalog",
        )
    normals = observed if observed is not None else observed_normals(point, observed_years, settings, client)
    return Projection(
        point=point,
        ssp=ssp,
        period=period,
        baseline_years=BASELINE_YEARS,
        observed_years=observed_years,
        observed=tuple(normals),
        models=tuple(models),
        skipped=skipped,
    )
