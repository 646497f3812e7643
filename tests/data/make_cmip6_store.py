"""Seeded writer of a tiny CMIP6 archive laid out like the Pangeo buckets, plus its intake-ESM catalogs.

Run at test time into a temporary folder (nothing here is committed as data):

    python -m tests.data.make_cmip6_store OUT_DIR

What mirrors the real stores (docs/cmip6.md): the bucket layout
`CMIP6/<activity_id>/<institution_id>/<source_id>/<experiment_id>/<member_id>/<table_id>/<variable_id>/<grid_label>/v<version>/`,
Zarr v2 with consolidated metadata (`.zmetadata`), dims `time`/`lat`/`lon` (+ `bnds`), CF
attributes (`units` K / kg m-2 s-1 / W m-2, `standard_name`, `cell_methods`, `_FillValue` 1e20),
times as numbers "days since 1850-01-01" in the model's own calendar, 0..360 longitudes, `height`
on tas, the `fx` land fraction `sftlf` (%), and a catalog CSV with the real columns.

The models (made-up names, test data only):

| source_id   | calendar            | grid | has                                              |
|-------------|---------------------|------|--------------------------------------------------|
| ECO-NOLEAP  | noleap              | gn   | tas pr rsds; historical, ssp126, ssp245, ssp585; sftlf |
| ECO-360DAY  | 360_day             | gn   | tas pr rsds; historical, ssp126, ssp245, ssp585; sftlf |
| ECO-GREG    | proleptic_gregorian | gr   | tas pr rsds; historical, ssp245, ssp585 (no ssp126); no sftlf |
| ECO-NORSDS  | noleap              | gn   | tas pr only (no rsds); historical, ssp245, ssp585 |

The values are built so deltas can be computed by hand (`expected_*` below): with
`trend(year)` = max(0, year - 2005) in the historical run and 10 + k_ssp * (year - 2015) in a
scenario run, and `rate` = model rate * (1 + 0.02 * lat_index) * (1 + 0.05 * (month - 1)):

    tas  = 288 - 0.3 |lat| + 8 cos(2 pi (month - 1) / 12) + rate_tas * trend          [K]
    pr   = 3e-5 (1 + 0.5 sin(2 pi month / 12)) (1 + rate_pr * trend)                  [kg m-2 s-1]
    rsds = 180 + 60 cos(2 pi (month - 1) / 12) + rate_rsds * trend                     [W m-2]

Years outside every averaging window (1985-1994 and 2015-2040, 2061-2065) carry large seeded
noise, so a projection that averages the wrong years is visibly wrong.
"""

from __future__ import annotations

import csv
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 20500101
LATS = np.arange(-82.5, 90.0, 15.0)  # 12 cell centres
LONS = np.arange(0.0, 360.0, 15.0)  # 24 cell centres, 0..345 (0-360 convention)
HIST_YEARS = (1985, 2014)
SSP_YEARS = (2015, 2100)
TIME_CHUNK = 120  # months per chunk (whole globe per chunk, as for a time-chunked real store)
SSP_FACTOR = {"ssp126": 0.4, "ssp245": 1.0, "ssp370": 1.5, "ssp585": 2.0}
NOISY_YEARS = set(range(1985, 1995)) | set(range(2015, 2041)) | set(range(2061, 2066))
TIME_UNITS = "days since 1850-01-01"


@dataclass(frozen=True)
class TestModel:
    source_id: str
    institution_id: str
    calendar: str
    grid_label: str
    variables: tuple[str, ...]
    experiments: tuple[str, ...]
    has_land_fraction: bool
    rates: dict  # variable -> model rate


MODELS = (
    TestModel(
        "ECO-NOLEAP",
        "ECOTEST",
        "noleap",
        "gn",
        ("tas", "pr", "rsds"),
        ("historical", "ssp126", "ssp245", "ssp585"),
        True,
        {"tas": 0.05, "pr": 0.004, "rsds": 0.2},
    ),
    TestModel(
        "ECO-360DAY",
        "ECOTEST",
        "360_day",
        "gn",
        ("tas", "pr", "rsds"),
        ("historical", "ssp126", "ssp245", "ssp585"),
        True,
        {"tas": 0.03, "pr": -0.002, "rsds": -0.1},
    ),
    TestModel(
        "ECO-GREG",
        "ECOLAB",
        "proleptic_gregorian",
        "gr",
        ("tas", "pr", "rsds"),
        ("historical", "ssp245", "ssp585"),
        False,
        {"tas": 0.08, "pr": 0.001, "rsds": 0.05},
    ),
    TestModel(
        "ECO-NORSDS",
        "ECOLAB",
        "noleap",
        "gn",
        ("tas", "pr"),
        ("historical", "ssp245", "ssp585"),
        True,
        {"tas": 0.04, "pr": 0.003},
    ),
)
MEMBER = "r1i1p1f1"
VERSION = "20190308"
VARIABLE_ATTRS = {
    "tas": {
        "standard_name": "air_temperature",
        "long_name": "Near-Surface Air Temperature",
        "units": "K",
        "cell_methods": "area: time: mean",
    },
    "pr": {
        "standard_name": "precipitation_flux",
        "long_name": "Precipitation",
        "units": "kg m-2 s-1",
        "cell_methods": "area: time: mean",
    },
    "rsds": {
        "standard_name": "surface_downwelling_shortwave_flux_in_air",
        "long_name": "Surface Downwelling Shortwave Radiation",
        "units": "W m-2",
        "cell_methods": "area: time: mean",
    },
}
CATALOG_COLUMNS = (
    "activity_id",
    "institution_id",
    "source_id",
    "experiment_id",
    "member_id",
    "table_id",
    "variable_id",
    "grid_label",
    "zstore",
    "dcpp_init_year",
    "version",
)


@dataclass(frozen=True)
class Cmip6TestArchive:
    """Where things were written: `root` holds `CMIP6/...` (the buckets' layout)."""

    root: Path
    catalog_gs: Path  # zstore column with gs://cmip6/... (the Google Cloud catalog)
    catalog_s3: Path  # zstore column with s3://cmip6-pds/... (the AWS catalog)


def trend(year: np.ndarray | int, experiment: str) -> np.ndarray:
    year = np.asarray(year, dtype="float64")
    if experiment == "historical":
        return np.maximum(0.0, year - 2005.0)
    return 10.0 + SSP_FACTOR[experiment] * (year - 2015.0)


def cell_rate(model: TestModel, variable: str, lat_index: int, month: int) -> float:
    return model.rates[variable] * (1 + 0.02 * lat_index) * (1 + 0.05 * (month - 1))


def values(model: TestModel, variable: str, experiment: str, years: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The field (time, lat, lon) of one variable, without noise."""
    t = trend(years, experiment)[:, None, None]
    phase = 2 * np.pi * (months - 1) / 12.0
    lat_index = np.arange(LATS.size)[None, :, None]
    rate = model.rates[variable] * (1 + 0.02 * lat_index) * (1 + 0.05 * (months[:, None, None] - 1))
    shape = (years.size, LATS.size, LONS.size)
    if variable == "tas":
        base = 288 - 0.3 * np.abs(LATS)[None, :, None] + 8 * np.cos(phase)[:, None, None]
        return np.broadcast_to(base + rate * t, shape)
    if variable == "pr":
        base = 3e-5 * (1 + 0.5 * np.sin(2 * np.pi * months / 12.0))[:, None, None]
        return np.broadcast_to(base * (1 + rate * t), shape)
    base = 180 + 60 * np.cos(phase)[:, None, None]
    return np.broadcast_to(base + rate * t, shape)


def _noise(rng: np.random.Generator, variable: str, years: np.ndarray) -> np.ndarray:
    scale = {"tas": 5.0, "pr": 1e-5, "rsds": 40.0}[variable]
    noisy = np.isin(years, sorted(NOISY_YEARS))[:, None, None]
    return noisy * rng.normal(0.0, scale, (years.size, LATS.size, LONS.size))


def store_path(model: TestModel, experiment: str, table: str, variable: str) -> str:
    activity = "CMIP" if experiment == "historical" else "ScenarioMIP"
    return (
        f"CMIP6/{activity}/{model.institution_id}/{model.source_id}/{experiment}/{MEMBER}/{table}/"
        f"{variable}/{model.grid_label}/v{VERSION}"
    )


def _bounds(centres: np.ndarray, step: float) -> np.ndarray:
    return np.stack([centres - step / 2, centres + step / 2], axis=1)


def _monthly_dataset(model: TestModel, variable: str, experiment: str, rng: np.random.Generator):
    import cftime
    import xarray as xr

    first, last = HIST_YEARS if experiment == "historical" else SSP_YEARS
    years = np.repeat(np.arange(first, last + 1), 12)
    months = np.tile(np.arange(1, 13), last - first + 1)
    data = values(model, variable, experiment, years, months) + _noise(rng, variable, years)
    if variable == "pr":
        data = np.maximum(data, 0.0)
    mid = [cftime.datetime(int(y), int(m), 15, calendar=model.calendar) for y, m in zip(years, months, strict=True)]
    start = [cftime.datetime(int(y), int(m), 1, calendar=model.calendar) for y, m in zip(years, months, strict=True)]
    end = [
        cftime.datetime(int(y) + (m == 12), 1 if m == 12 else int(m) + 1, 1, calendar=model.calendar)
        for y, m in zip(years, months, strict=True)
    ]
    time = cftime.date2num(mid, TIME_UNITS, calendar=model.calendar)
    time_bnds = np.stack(
        [cftime.date2num(start, TIME_UNITS, model.calendar), cftime.date2num(end, TIME_UNITS, model.calendar)], axis=1
    )
    ds = xr.Dataset(
        {
            variable: (("time", "lat", "lon"), data.astype("float32"), VARIABLE_ATTRS[variable]),
            "time_bnds": (("time", "bnds"), time_bnds),
            "lat_bnds": (("lat", "bnds"), _bounds(LATS, 15.0)),
            "lon_bnds": (("lon", "bnds"), _bounds(LONS, 15.0)),
        },
        coords={
            "time": (
                "time",
                time,
                {
                    "units": TIME_UNITS,
                    "calendar": model.calendar,
                    "standard_name": "time",
                    "axis": "T",
                    "bounds": "time_bnds",
                },
            ),
            "lat": ("lat", LATS, {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"}),
            "lon": ("lon", LONS, {"units": "degrees_east", "standard_name": "longitude", "axis": "X"}),
        },
        attrs=_global_attrs(model, experiment, "Amon", variable),
    )
    if variable == "tas":
        ds = ds.assign_coords(height=((), 2.0, {"units": "m", "standard_name": "height", "positive": "up"}))
    ds[variable].encoding = {"_FillValue": np.float32(1e20), "chunks": (TIME_CHUNK, LATS.size, LONS.size)}
    return ds


def _global_attrs(model: TestModel, experiment: str, table: str, variable: str) -> dict:
    return {
        "Conventions": "CF-1.7 CMIP-6.2",
        "activity_id": "CMIP" if experiment == "historical" else "ScenarioMIP",
        "institution_id": model.institution_id,
        "source_id": model.source_id,
        "experiment_id": experiment,
        "variant_label": MEMBER,
        "table_id": table,
        "variable_id": variable,
        "grid_label": model.grid_label,
        "frequency": "fx" if table == "fx" else "mon",
        "comment": "EcoMapper test data written by tests/data/make_cmip6_store.py; not model output.",
    }


@functools.lru_cache(maxsize=1)
def land_fraction() -> np.ndarray:
    """sftlf (%) on the test grid: 100 where the GSHHG mask has land at the cell centre, else 0."""
    from core.geo import Point
    from core.sources.places import is_on_land

    lons = np.where(LONS > 180, LONS - 360, LONS)
    return np.array([[100.0 * is_on_land(Point(float(y), float(x))) for x in lons] for y in LATS], dtype="float32")


def _land_dataset(model: TestModel):
    import xarray as xr

    ds = xr.Dataset(
        {
            "sftlf": (
                ("lat", "lon"),
                land_fraction(),
                {
                    "standard_name": "land_area_fraction",
                    "long_name": "Percentage of the grid cell occupied by land",
                    "units": "%",
                },
            )
        },
        coords={
            "lat": ("lat", LATS, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", LONS, {"units": "degrees_east", "standard_name": "longitude"}),
        },
        attrs=_global_attrs(model, "historical", "fx", "sftlf"),
    )
    return ds


def write_archive(out_dir: str | Path) -> Cmip6TestArchive:
    """Write every store and both catalogs under `out_dir` (idempotent: a finished archive is reused)."""
    root = Path(out_dir)
    done = root / ".complete"
    archive = Cmip6TestArchive(root, root / "pangeo-cmip6.csv", root / "pangeo-cmip6-aws.csv")
    if done.exists():
        return archive
    rng = np.random.default_rng(SEED)
    rows = []
    for model in MODELS:
        for experiment in model.experiments:
            for variable in model.variables:
                relative = store_path(model, experiment, "Amon", variable)
                _monthly_dataset(model, variable, experiment, rng).to_zarr(
                    root / relative, mode="w", zarr_format=2, consolidated=True
                )
                rows.append(_catalog_row(model, experiment, "Amon", variable, relative))
        if model.has_land_fraction:
            relative = store_path(model, "historical", "fx", "sftlf")
            _land_dataset(model).to_zarr(root / relative, mode="w", zarr_format=2, consolidated=True)
            rows.append(_catalog_row(model, "historical", "fx", "sftlf", relative))
    # Rows a projection must ignore, as in the real catalog: other tables and experiments.
    other = MODELS[0]
    rows.append(_catalog_row(other, "historical", "Omon", "tos", store_path(other, "historical", "Omon", "tos")))
    rows.append(_catalog_row(other, "piControl", "Amon", "tas", store_path(other, "piControl", "Amon", "tas")))
    rows.append(_catalog_row(other, "ssp245", "day", "pr", store_path(other, "ssp245", "day", "pr")))
    for path, prefix in ((archive.catalog_gs, "gs://cmip6/"), (archive.catalog_s3, "s3://cmip6-pds/")):
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CATALOG_COLUMNS)
            for row in rows:
                writer.writerow([prefix + row[c] if c == "zstore" else row[c] for c in CATALOG_COLUMNS])
    done.write_text("ok\n")
    return archive


def _catalog_row(model: TestModel, experiment: str, table: str, variable: str, relative: str) -> dict:
    return {
        "activity_id": "CMIP" if experiment == "historical" else "ScenarioMIP",
        "institution_id": model.institution_id,
        "source_id": model.source_id,
        "experiment_id": experiment,
        "member_id": MEMBER,
        "table_id": table,
        "variable_id": variable,
        "grid_label": model.grid_label,
        "zstore": relative + "/",
        "dcpp_init_year": "",
        "version": VERSION,
    }


def period_mean_trend(experiment: str, first: int, last: int) -> float:
    return float(np.mean(trend(np.arange(first, last + 1), experiment)))


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "cmip6-test-archive")
    print(write_archive(target))
