"""CMIP6 projections end to end against the seeded archive served on 127.0.0.1 (and read from its folder).

Expected numbers come from the archive's construction (tests/data/make_cmip6_store.py), worked out
by hand here: a model's change is rate x (mean trend of the future window - mean trend of 1995-2014).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.errors import BadRequestError, OfflineCacheMissError, UpstreamError
from core.geo import Point
from core.sources.projections import project_climate
from tests.data import make_cmip6_store as archive_spec
from tests.support.cmip6_fixtures import cmip6_http_settings, cmip6_local_settings

SAHARA = Point(24.8, -11.4)  # lon 348.6 in the models' 0-360 convention
# The grid cell nearest to SAHARA: lat 22.5 (index 7), lon 345 (index 23); it is land in every model.
CELL_LAT_INDEX = 7
OBSERVED = tuple(ClimateValues(20.0 + month, 1.0 + 0.1 * month, 15.0 + 0.5 * month) for month in range(12))
MODELS_WITH_ALL = ("ECO-360DAY", "ECO-GREG", "ECO-NOLEAP")
# Mean trend: 1995-2014 in the historical run = mean(max(0, y - 2005)) = 45 / 20 = 2.25;
# 2041-2060 under ssp245 (k = 1) = 10 + 1 * (2050.5 - 2015) = 45.5.
BASELINE_TREND, SSP245_2050_TREND = 2.25, 45.5


def _model(source_id: str):
    return next(m for m in archive_spec.MODELS if m.source_id == source_id)


def _expected(source_id: str, month: int) -> tuple[float, float, float]:
    """Hand-computed projected (temp_c, precip_mm_day, solar) for ssp245 / 2050 at the SAHARA cell."""
    model, obs = _model(source_id), OBSERVED[month - 1]
    rate = {v: archive_spec.cell_rate(model, v, CELL_LAT_INDEX, month) for v in ("tas", "pr", "rsds")}
    temp = obs.temp_c + rate["tas"] * (SSP245_2050_TREND - BASELINE_TREND)
    precip = obs.precip_mm_day * (1 + rate["pr"] * SSP245_2050_TREND) / (1 + rate["pr"] * BASELINE_TREND)
    solar = obs.solar_mj_m2_day + rate["rsds"] * (SSP245_2050_TREND - BASELINE_TREND) * 0.0864
    return temp, precip, solar


def test_delta_method_matches_hand_computed_values_for_every_calendar(cmip6_settings, cmip6_server):
    projection = project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)

    assert [m.source_id for m in projection.models] == list(MODELS_WITH_ALL)
    assert projection.skipped == {"ECO-NORSDS": "lacks rsds (monthly) for historical or ssp245"}
    assert (projection.period.start_year, projection.period.end_year) == (2041, 2060)
    for model in projection.models:  # noleap, 360_day and proleptic_gregorian
        assert (model.cell.lat, model.cell.lon) == (22.5, 345.0)
        per_model = projection.per_model()[projection.models.index(model)]
        for month in (1, 2, 7, 12):
            assert per_model[month - 1] == pytest.approx(_expected(model.source_id, month), rel=1e-5, abs=1e-4)
    # Ensemble: the median and 10th/90th percentiles of the three models' hand values.
    hand = np.array([[_expected(s, m) for m in range(1, 13)] for s in MODELS_WITH_ALL])
    for statistic, expected in (
        ("median", np.median(hand, axis=0)),
        ("p10", np.percentile(hand, 10, axis=0)),
        ("p90", np.percentile(hand, 90, axis=0)),
    ):
        values = projection.values(7, statistic)
        assert (values.temp_c, values.precip_mm_day, values.solar_mj_m2_day) == pytest.approx(
            tuple(expected[6]), rel=1e-5, abs=1e-4
        )
    assert projection.values(7, "p10").temp_c < projection.values(7, "median").temp_c
    assert projection.values(7, "median").temp_c < projection.values(7, "p90").temp_c


def test_only_the_chunks_of_the_two_periods_are_read(cmip6_settings, cmip6_server):
    project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    paths = [r.path for r in cmip6_server.requests]
    hist_tas = "/ECO-NOLEAP/historical/r1i1p1f1/Amon/tas/gn/v20190308/tas/"
    ssp_tas = "/ECO-NOLEAP/ssp245/r1i1p1f1/Amon/tas/gn/v20190308/tas/"
    # Chunks of 120 months: historical 1985-1994 | 1995-2004 | 2005-2014; ssp 2015-2024 | ... | 2055-2064.
    assert sorted(p.rsplit("/", 1)[1] for p in paths if hist_tas in p) == ["1.0.0", "2.0.0"]
    assert sorted(p.rsplit("/", 1)[1] for p in paths if ssp_tas in p) == ["2.0.0", "3.0.0", "4.0.0"]
    assert not any(p.endswith("/.zarray") for p in paths)  # consolidated metadata only
    assert not any("/ECO-NORSDS/" in p for p in paths)  # a model left out is never read


def test_a_cold_point_reads_metadata_once_per_store_and_each_coordinate_once(cmip6_settings, cmip6_server):
    project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    paths = [r.path for r in cmip6_server.requests]
    stores = {p.rsplit("/", 1)[0] for p in paths if p.endswith("/.zmetadata")}
    assert len(stores) == len([p for p in paths if p.endswith("/.zmetadata")])  # one metadata GET per store
    assert not any(p.endswith(("/.zgroup", "/.zattrs", "/.zarray")) for p in paths)  # all in .zmetadata
    # .../CMIP6/<activity>/<institution>/<source>/<experiment>/<member>/<table>/<variable>/<grid>/<version>/<name>/<n>
    source, experiment, member, table, grid = -9, -8, -7, -6, -4
    # (the land-fraction stores, table fx, describe their lat / lon differently: not shared with Amon)
    for name, same in (
        ("lat", (source, grid, table)),
        ("lon", (source, grid, table)),
        ("time", (source, experiment, member, table, grid)),
    ):
        reads = [p.split("/") for p in paths if p.split("/")[-2] == name]
        # once per model grid (lat, lon) or per run (time), whichever variable's store asks first
        assert len(reads) == len({tuple(parts[i] for i in same) for parts in reads}), name
        assert len(reads) < len(stores), name
    assert len(paths) <= 1 + len(stores) + 16 + 47  # catalog, metadata, coordinates, data chunks (was 166)


def test_same_answer_from_a_local_folder_over_http_and_from_the_aws_catalog(cmip6_archive, cmip6_server, tmp_path):
    over_http = project_climate(SAHARA, "ssp585", 2100, cmip6_http_settings(cmip6_server, tmp_path / "a"),
                                observed=OBSERVED)  # fmt: skip
    local = project_climate(SAHARA, "ssp585", 2100, cmip6_local_settings(cmip6_archive, tmp_path / "b"),
                            observed=OBSERVED)  # fmt: skip
    aws_settings = cmip6_http_settings(cmip6_server, tmp_path / "c", catalog="pangeo-cmip6-aws.csv")
    aws = project_climate(SAHARA, "ssp585", 2100, aws_settings, observed=OBSERVED)
    assert over_http.as_dict() == local.as_dict() == aws.as_dict()
    assert over_http.period.start_year == 2081


def test_a_cached_second_call_makes_no_request_and_works_offline(cmip6_settings, cmip6_server):
    first = project_climate(SAHARA, "ssp245", 2075, cmip6_settings, observed=OBSERVED)
    assert cmip6_server.requests
    cmip6_server.reset()
    again = project_climate(SAHARA, "ssp245", 2075, cmip6_settings, observed=OBSERVED)
    assert cmip6_server.requests == []
    offline = project_climate(SAHARA, "ssp245", 2075, cmip6_settings.with_(offline=True), observed=OBSERVED)
    assert first.as_dict() == again.as_dict() == offline.as_dict()


def test_a_new_point_in_the_same_cells_reuses_the_cached_chunks(cmip6_settings, cmip6_server):
    project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    cmip6_server.reset()
    # Another place near the same cells: new climatologies, but from chunks already in the HTTP cache.
    project_climate(Point(23.0, -13.0), "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    assert cmip6_server.requests == []


def test_source_down_is_a_clear_error_and_the_cache_is_served_when_present(cmip6_settings, cmip6_server):
    cmip6_server.down = True
    with pytest.raises(UpstreamError) as info:
        project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    assert "503" in info.value.problem and "CMIP6" in info.value.problem
    cmip6_server.down = False
    before = project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    cmip6_server.down = True
    assert project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED).as_dict() == before.as_dict()


def test_offline_without_a_cache_says_so(cmip6_settings):
    with pytest.raises(OfflineCacheMissError) as info:
        project_climate(SAHARA, "ssp245", 2050, cmip6_settings.with_(offline=True), observed=OBSERVED)
    assert "catalog" in info.value.problem


def test_models_missing_the_scenario_are_left_out_and_reported(cmip6_settings):
    projection = project_climate(SAHARA, "ssp126", 2050, cmip6_settings, observed=OBSERVED)
    assert [m.source_id for m in projection.models] == ["ECO-360DAY", "ECO-NOLEAP"]
    assert projection.skipped["ECO-GREG"] == "no ssp126 run"
    assert projection.skipped["ECO-NORSDS"] == "no ssp126 run"


def test_no_model_for_a_scenario_is_a_clear_error(cmip6_settings):
    with pytest.raises(UpstreamError) as info:
        project_climate(SAHARA, "ssp370", 2050, cmip6_settings, observed=OBSERVED)
    assert "ssp370" in info.value.problem and "ECO-NOLEAP: no ssp370 run" in info.value.problem


@pytest.mark.parametrize(
    ("point", "ssp", "horizon", "words"),
    [
        (SAHARA, "ssp999", 2050, "Unknown scenario"),
        (SAHARA, "ssp245", 2101, "outside 2015-2100"),
        (SAHARA, "ssp245", 2000, "outside 2015-2100"),
        (Point(0.0, -30.0), "ssp245", 2050, "open sea"),
    ],
)
def test_bad_input_is_refused_before_any_request(cmip6_settings, cmip6_server, point, ssp, horizon, words):
    with pytest.raises(BadRequestError) as info:
        project_climate(point, ssp, horizon, cmip6_settings, observed=OBSERVED)
    assert words in str(info.value)
    assert cmip6_server.requests == []


def test_a_coastal_point_uses_the_nearest_land_cell_of_each_model(cmip6_settings):
    lisbon = Point(38.72, -9.14)
    projection = project_climate(lisbon, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    land = archive_spec.land_fraction() >= 50
    lats, lons = archive_spec.LATS, archive_spec.LONS
    grid_lon, grid_lat = np.meshgrid(lons, lats)
    # Equirectangular distance is enough to rank cells this close to the point.
    dist = np.hypot(grid_lat - lisbon.lat, ((grid_lon - lisbon.lon + 180) % 360 - 180) * np.cos(np.radians(38.7)))
    nearest = np.unravel_index(np.argmin(dist), dist.shape)
    assert not land[nearest]  # the nearest cell (37.5 N, 345 E) is Atlantic
    nearest_land = np.unravel_index(np.argmin(np.where(land, dist, np.inf)), dist.shape)
    for model in projection.models:
        assert (model.cell.lat_index, model.cell.lon_index) == tuple(int(i) for i in nearest_land)
    sources = {m.source_id: m.cell.land_source for m in projection.models}
    assert sources == {"ECO-360DAY": "sftlf", "ECO-GREG": "landmask", "ECO-NOLEAP": "sftlf"}


def test_a_stale_catalog_is_refreshed_and_kept_when_the_refresh_fails(cmip6_settings, cmip6_server, monkeypatch):
    from core.sources.projections import catalog

    project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    monkeypatch.setattr(catalog, "CATALOG_MAX_AGE_S", -1.0)  # every cached catalog is now stale
    cmip6_server.reset()
    project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    assert [r.path for r in cmip6_server.requests] == ["/cmip6/pangeo-cmip6.csv"]  # refreshed, data from cache
    cmip6_server.down = True
    again = project_climate(SAHARA, "ssp245", 2050, cmip6_settings, observed=OBSERVED)
    assert len(again.models) == 3  # the old catalog served, with a warning
