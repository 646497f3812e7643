"""Whole-region projections: many points x many models as one dask graph, on this machine or a cluster.

Each model's stores are opened as dask arrays; every point picks its nearest land cell
(pointwise indexing), so a chunk that holds many points is read once for all of them. With
`settings.dask_scheduler` set (`ECOMAPPER_DASK_SCHEDULER=tcp://host:8786`) the same graph runs on
that dask.distributed cluster; otherwise on local threads. The result is the monthly change per
model and point, and the ensemble median / 10th / 90th percentile of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, UpstreamError
from core.geo import Point
from core.io.http import HttpClient
from core.sources.projections.catalog import CLIMATE_VARIABLES, ModelRuns, load_catalog
from core.sources.projections.delta import DRY_BASELINE_MM_DAY
from core.sources.projections.model_climate import (
    ModelDataError,
    grid_axes,
    land_from_fraction,
    land_mask_at_centres,
    nearest_land_cell,
    period_indices,
    to_project_units,
    year_month,
)
from core.sources.projections.periods import BASELINE_YEARS, HISTORICAL, Period, check_ssp, period_for
from core.sources.projections.store import open_cmip6_store

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
MAX_REGION_POINTS = 10_000


@dataclass(frozen=True)
class RegionProjection:
    """Monthly changes for many points: `changes` has dims (model, point, month).

    Variables: `temp_delta_c`, `precip_ratio` (NaN where the baseline month is dry),
    `precip_delta_mm_day`, `solar_delta_mj_m2_day`; `ensemble` has the same variables with a
    `statistic` dim (median, p10, p90) instead of `model`.
    """

    points: tuple[Point, ...]
    at_sea: tuple[Point, ...]
    ssp: str
    period: Period
    changes: object  # xarray.Dataset
    skipped: dict[str, str]

    @property
    def ensemble(self):
        import xarray as xr

        stats = {"median": 50, "p10": 10, "p90": 90}
        return xr.concat(
            [self.changes.quantile(q / 100, dim="model", skipna=True).drop_vars("quantile") for q in stats.values()],
            dim=xr.DataArray(list(stats), dims="statistic", name="statistic"),
        )


def _lazy_climatology(ds, variable: str, iy: np.ndarray, ix: np.ndarray, first: int, last: int, what: str):
    """(point, month) monthly means as a lazy DataArray in project units."""
    import xarray as xr

    years, months = year_month(ds)
    index = period_indices(years, months, first, last, what)
    data = ds[variable]
    if data.dims != ("time", "lat", "lon"):
        raise ModelDataError(f"{variable} has dims {data.dims}, not (time, lat, lon).", "The model is left out.")
    picked = data.isel(
        time=xr.DataArray(index, dims="time"), lat=xr.DataArray(iy, dims="point"), lon=xr.DataArray(ix, dims="point")
    )
    picked = picked.where(np.abs(picked) < 1e19)
    month_of = xr.DataArray(months[index], dims="time", name="month")
    means = picked.groupby(month_of).mean("time")
    # Plain arithmetic, so it stays lazy on the dask array.
    converted = to_project_units(variable, means, data.attrs.get("units", ""))
    return converted.transpose("point", "month")


def _model_graph(
    runs: ModelRuns, ssp: str, points: Sequence[Point], period: Period, settings: Settings, client: HttpClient
):
    """The lazy (point, month) changes of one model (a dict of DataArrays)."""
    datasets = {
        (x, v): open_cmip6_store(runs.store(x, v), settings, client, dask=True)
        for x in (HISTORICAL, ssp)
        for v in CLIMATE_VARIABLES
    }
    lats, lons = grid_axes(datasets[(HISTORICAL, "tas")])
    land, source = None, "landmask"
    if runs.land_fraction_store:
        try:
            land = land_from_fraction(open_cmip6_store(runs.land_fraction_store, settings, client), lats, lons)
            source = "sftlf"
        except ModelDataError:
            land = None
    if land is None:
        land = land_mask_at_centres(lats, lons)
    cells = [nearest_land_cell(lats, lons, p, land, source) for p in points]
    iy = np.array([c.lat_index for c in cells])
    ix = np.array([c.lon_index for c in cells])
    base = {
        v: _lazy_climatology(datasets[(HISTORICAL, v)], v, iy, ix, *BASELINE_YEARS, HISTORICAL)
        for v in CLIMATE_VARIABLES
    }
    future = {
        v: _lazy_climatology(datasets[(ssp, v)], v, iy, ix, period.start_year, period.end_year, ssp)
        for v in CLIMATE_VARIABLES
    }
    wet = base["pr"] >= DRY_BASELINE_MM_DAY
    return {
        "temp_delta_c": future["tas"] - base["tas"],
        "precip_ratio": (future["pr"] / base["pr"]).where(wet),
        "precip_delta_mm_day": future["pr"] - base["pr"],
        "solar_delta_mj_m2_day": future["rsds"] - base["rsds"],
    }


def _compute(graphs: dict[str, dict], settings: Settings, progress: Progress | None) -> dict[str, dict]:
    """Compute every model's lazy arrays in one go (shared chunks are read once)."""
    import dask

    names = [(model, var) for model, parts in graphs.items() for var in parts]
    lazy = [graphs[model][var] for model, var in names]
    if settings.dask_scheduler:
        from distributed import as_completed

        from core.io.dask_cluster import dask_client

        with dask_client(settings.dask_scheduler, "ECOMAPPER_DASK_SCHEDULER") as cluster:
            futures = cluster.compute(lazy)
            position = {future.key: i for i, future in enumerate(futures)}
            results: list = [None] * len(futures)
            for done, future in enumerate(as_completed(futures, loop=cluster.loop), start=1):
                results[position[future.key]] = future.result()
                if progress:
                    progress(done, len(futures), f"{names[position[future.key]][0]} computed on the cluster")
    else:
        from dask.callbacks import Callback

        class _Report(Callback):
            def _start_state(self, dsk, state):
                self.total = len(state["ready"]) + len(state["waiting"]) + len(state["running"])

            def _posttask(self, key, result, dsk, state, worker_id):
                if progress:
                    progress(len(state["finished"]), self.total, "reading CMIP6 chunks")

        with _Report():
            results = list(dask.compute(*lazy, scheduler="threads"))
    out: dict[str, dict] = {}
    for (model, var), value in zip(names, results, strict=True):
        out.setdefault(model, {})[var] = value
    return out


def project_region(
    points: Sequence[Point],
    ssp: str,
    horizon: int,
    settings: Settings,
    *,
    client: HttpClient | None = None,
    progress: Progress | None = None,
) -> RegionProjection:
    """The CMIP6 monthly changes (per model and ensemble) at many points, computed with dask.

    Points at sea are set aside (`at_sea`), not projected.

    Raises:
        BadRequestError: unknown SSP, horizon outside 2015-2100, no points or every point at sea.
        UpstreamError: the catalog or a store cannot be reached; no model has what is needed.
    """
    import xarray as xr

    from core.sources.places import is_on_land

    ssp = check_ssp(ssp)
    period = period_for(horizon)
    if not points or len(points) > MAX_REGION_POINTS:
        raise BadRequestError(
            f"A region projection needs 1 to {MAX_REGION_POINTS} points ({len(points)} given).",
            "Give fewer points (a coarser grid over the region).",
        )
    on_land = tuple(p for p in points if is_on_land(p))
    at_sea = tuple(p for p in points if p not in on_land)
    if not on_land:
        raise BadRequestError("Every point of the region is in the open sea.", "Pick a region on land.")
    client = client or HttpClient(settings)
    runs, skipped = load_catalog(settings, client).model_runs(ssp)
    graphs = {}
    for model_runs in runs:
        try:
            graphs[model_runs.source_id] = _model_graph(model_runs, ssp, on_land, period, settings, client)
        except ModelDataError as err:
            skipped[model_runs.source_id] = err.problem
    if not graphs:
        raise UpstreamError(
            f"No CMIP6 model has monthly tas, pr and rsds for historical and {ssp}.",
            "Pick another scenario (ssp245 and ssp585 have the most models).",
            service="CMIP6 catalog",
        )
    computed = _compute(graphs, settings, progress)
    models = sorted(computed)
    changes = xr.Dataset(
        {
            # The models' own cell coordinates differ; the points' coordinates are what is kept.
            var: xr.concat(
                [computed[m][var].drop_vars(["lat", "lon", "height"], errors="ignore") for m in models], dim="model"
            )
            for var in ("temp_delta_c", "precip_ratio", "precip_delta_mm_day", "solar_delta_mj_m2_day")
        }
    ).assign_coords(
        model=models,
        latitude=("point", [p.lat for p in on_land]),
        longitude=("point", [p.lon for p in on_land]),
    )
    return RegionProjection(on_land, at_sea, ssp, period, changes, skipped)
