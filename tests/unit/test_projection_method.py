"""CMIP6 projections: scenarios and horizons, unit conversions, the delta arithmetic, the ensemble, grid cells."""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, UpstreamError
from core.geo import Point
from core.sources.projections.catalog import parse_catalog
from core.sources.projections.delta import MonthlyChange, ensemble_statistics
from core.sources.projections.model_climate import ModelDataError, nearest_land_cell, to_project_units
from core.sources.projections.periods import check_ssp, period_for
from core.sources.projections.store import store_location


@pytest.mark.parametrize("text", ["ssp245", "SSP2-4.5", "245", " Ssp245 ", "ssp2-4.5"])
def test_scenario_spellings_map_to_the_cmip6_experiment(text):
    assert check_ssp(text) == "ssp245"


@pytest.mark.parametrize("text", ["ssp999", "rcp85", "", "ssp5"])
def test_unknown_scenario_names_the_choices(text):
    with pytest.raises(BadRequestError) as info:
        check_ssp(text)
    assert "ssp126, ssp245, ssp370, ssp585" in str(info.value)


@pytest.mark.parametrize(
    ("horizon", "window"),
    [(2050, (2041, 2060)), (2075, (2066, 2085)), (2100, (2081, 2100)), (2030, (2021, 2040)), (2015, (2015, 2034)),
     (2095, (2081, 2100)), ("2050", (2041, 2060))],
)  # fmt: skip
def test_horizons_get_twenty_year_windows_inside_the_scenario_runs(horizon, window):
    period = period_for(horizon)
    assert (period.start_year, period.end_year) == window
    assert period.end_year - period.start_year == 19


@pytest.mark.parametrize("horizon", [2014, 2101, 1990, "soon"])
def test_horizon_outside_the_scenario_runs_is_refused(horizon):
    with pytest.raises(BadRequestError) as info:
        period_for(horizon)
    assert "2015" in str(info.value) or "year" in str(info.value)


def test_cmip6_units_convert_to_the_power_units():
    assert to_project_units("tas", np.array([273.15, 300.0]), "K") == pytest.approx([0.0, 26.85])
    # 1 kg m-2 s-1 of water is 1 mm/s: 1e-5 kg m-2 s-1 = 0.864 mm/day
    assert to_project_units("pr", np.array([1e-5]), "kg m-2 s-1") == pytest.approx([0.864])
    # 100 W m-2 for 86400 s = 8.64 MJ m-2 day-1
    assert to_project_units("rsds", np.array([100.0]), "W  m-2") == pytest.approx([8.64])
    with pytest.raises(ModelDataError):
        to_project_units("pr", np.array([1.0]), "mm/day")


def _climatology(tas, pr, rsds):
    return {"tas": np.full(12, tas, float), "pr": np.full(12, pr, float), "rsds": np.full(12, rsds, float)}


def test_delta_is_added_for_temperature_and_radiation_and_a_ratio_for_precipitation():
    change = MonthlyChange.from_climatologies(_climatology(15.0, 2.0, 20.0), _climatology(17.5, 2.5, 19.0))
    observed = ClimateValues(10.0, 4.0, 18.0)
    temp, precip, solar = change.apply(observed, 3)
    assert temp == pytest.approx(12.5)  # 10 + (17.5 - 15)
    assert precip == pytest.approx(5.0)  # 4 * 2.5 / 2
    assert solar == pytest.approx(17.0)  # 18 + (19 - 20)


def test_dry_baseline_month_adds_the_precipitation_change_and_never_goes_negative():
    change = MonthlyChange.from_climatologies(_climatology(15.0, 0.01, 20.0), _climatology(15.0, 0.05, 0.0))
    assert np.isnan(change.precip_ratio[0])
    _, precip, solar = change.apply(ClimateValues(30.0, 0.2, 10.0), 1)
    assert precip == pytest.approx(0.24)  # 0.2 + 0.04, not 0.2 * 5
    assert solar == 0.0  # 10 - 20 clipped at zero
    drier = MonthlyChange.from_climatologies(_climatology(15.0, 0.01, 20.0), _climatology(15.0, 0.0, 20.0))
    assert drier.apply(ClimateValues(30.0, 0.005, 10.0), 1)[1] == 0.0


def test_ensemble_median_and_percentile_spread_across_models():
    projected = np.zeros((3, 12, 3))
    projected[:, :, 0] = np.array([1.0, 2.0, 4.0])[:, None]
    stats = ensemble_statistics(projected)
    assert stats["median"][0, 0] == pytest.approx(2.0)
    assert stats["p10"][0, 0] == pytest.approx(1.2)  # linear: 1 + 0.2 * (2 - 1)
    assert stats["p90"][0, 0] == pytest.approx(3.6)  # 2 + 0.8 * (4 - 2)


def test_nearest_cell_wraps_across_the_0_360_seam_and_skips_sea_cells():
    lats = np.array([-10.0, 0.0, 10.0])
    lons = np.arange(0.0, 360.0, 15.0)  # 0..345
    cell = nearest_land_cell(lats, lons, Point(1.0, -5.0), None, "any")
    assert (cell.lat, cell.lon) == (0.0, 0.0)  # 5 degrees east across the seam, not 345 (10 degrees west)
    cell = nearest_land_cell(lats, lons, Point(1.0, -9.0), None, "any")
    assert cell.lon == 345.0
    land = np.zeros((3, 24), bool)
    land[2, 23] = True  # only (10, 345) is land
    cell = nearest_land_cell(lats, lons, Point(1.0, -5.0), land, "sftlf")
    assert (cell.lat, cell.lon, cell.land_source) == (10.0, 345.0, "sftlf")
    # 9 degrees north, 10 degrees west at ~5.5 N: about 13.4 degrees of arc
    assert cell.distance_km == pytest.approx(111.2 * np.hypot(9.0, 10.0 * np.cos(np.radians(5.5))), rel=0.01)


CATALOG_HEADER = "activity_id,institution_id,source_id,experiment_id,member_id,table_id,variable_id,grid_label,zstore,dcpp_init_year,version\n"  # noqa: E501


def _rows(source, member, grid, experiments=("historical", "ssp245"), variables=("tas", "pr", "rsds"), version="1"):
    return "".join(
        f"CMIP,INST,{source},{x},{member},Amon,{v},{grid},gs://cmip6/CMIP6/{source}/{x}/{member}/{v}/{grid}/v{version}/,,{version}\n"
        for x in experiments
        for v in variables
    )


def test_catalog_picks_one_member_and_grid_with_everything_and_explains_the_rest():
    text = (
        CATALOG_HEADER
        + _rows("A", "r2i1p1f1", "gn")
        + _rows("A", "r1i1p1f1", "gr")
        + _rows("A", "r1i1p1f1", "gn", experiments=("historical",))  # gn lacks the scenario for r1
        + _rows("B", "r1i1p1f1", "gn", variables=("tas", "pr"))
        + _rows("C", "r1i1p1f1", "gn", experiments=("historical", "ssp585"))
        + _rows("D", "r1i1p1f1", "gn", version="20190101")
        + _rows("D", "r1i1p1f1", "gn", version="20200101")
        + "CMIP,INST,D,historical,r1i1p1f1,Omon,tos,gn,gs://cmip6/x/,,1\n"
    )
    from core.sources.projections.catalog import Catalog

    runs, skipped = Catalog(tuple(parse_catalog(text)), "test").model_runs("ssp245")
    by_model = {r.source_id: r for r in runs}
    assert sorted(by_model) == ["A", "D"]
    assert (by_model["A"].member_id, by_model["A"].grid_label) == ("r1i1p1f1", "gr")  # preferred member first
    assert by_model["D"].store("ssp245", "pr").endswith("/v20200101/")  # newest version
    assert skipped == {"B": "lacks rsds (monthly) for historical or ssp245", "C": "no ssp245 run"}


def test_catalog_without_the_intake_esm_columns_is_an_upstream_error():
    with pytest.raises(UpstreamError) as info:
        parse_catalog("name,url\nx,y\n", "http://127.0.0.1:9/cat.csv")
    assert "zstore" in info.value.problem


def test_zstores_map_to_anonymous_https_or_a_mirror():
    default = Settings()
    assert store_location("gs://cmip6/CMIP6/CMIP/X/tas/gn/v1/", default) == (
        "https://storage.googleapis.com/cmip6/CMIP6/CMIP/X/tas/gn/v1"
    )
    assert store_location("s3://cmip6-pds/CMIP6/CMIP/X/tas/gn/v1/", default) == (
        "https://cmip6-pds.s3.amazonaws.com/CMIP6/CMIP/X/tas/gn/v1"
    )
    mirror = default.with_(cmip6_store_url="/data/cmip6")
    assert store_location("s3://cmip6-pds/CMIP6/A/v1", mirror) == "/data/cmip6/CMIP6/A/v1"
    with pytest.raises(UpstreamError):
        store_location("az://elsewhere/CMIP6/A", default)


def test_zarr_byte_ranges_cut_the_cached_object():
    from zarr.abc.store import OffsetByteRequest, RangeByteRequest, SuffixByteRequest

    from core.sources.projections.store import _byte_range

    body = b"0123456789"
    assert _byte_range(body, None) == body
    assert _byte_range(body, RangeByteRequest(2, 5)) == b"234"
    assert _byte_range(body, OffsetByteRequest(7)) == b"789"
    assert _byte_range(body, SuffixByteRequest(3)) == b"789"
