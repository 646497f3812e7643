"""Region projections on dask: the same changes as the point path, points at sea set aside, a cluster unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Point
from core.sources.projections import project_climate, project_region
from tests.support.cmip6_fixtures import cmip6_http_settings, cmip6_local_settings

POINTS = [Point(24.8, -11.4), Point(0.0, -30.0), Point(48.8, 2.3), Point(38.72, -9.14)]
OBSERVED = tuple(ClimateValues(20.0, 2.0, 20.0) for _ in range(12))


def _point_changes(settings, point):
    projection = project_climate(point, "ssp245", 2050, settings, observed=OBSERVED)
    return {m.source_id: m.change for m in projection.models}


def test_region_changes_equal_the_point_path_and_sea_points_are_set_aside(cmip6_archive, tmp_path):
    settings = cmip6_local_settings(cmip6_archive, tmp_path / "cache")
    calls = []
    region = project_region(POINTS, "ssp245", 2050, settings, progress=lambda done, total, _: calls.append(total))
    assert region.at_sea == (Point(0.0, -30.0),)
    assert [p for p in region.points] == [POINTS[0], POINTS[2], POINTS[3]]
    assert list(region.changes["model"].values) == ["ECO-360DAY", "ECO-GREG", "ECO-NOLEAP"]
    assert region.skipped == {"ECO-NORSDS": "lacks rsds (monthly) for historical or ssp245"}
    assert calls and len(calls) == calls[0]  # one report per task, all of them
    for index, point in enumerate(region.points):
        for model, change in _point_changes(settings, point).items():
            cell = region.changes.sel(model=model).isel(point=index)
            np.testing.assert_allclose(cell["temp_delta_c"].values, change.temp_delta_c, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(cell["precip_ratio"].values, change.precip_ratio, rtol=1e-5)
            np.testing.assert_allclose(
                cell["solar_delta_mj_m2_day"].values, change.solar_delta_mj_m2_day, rtol=1e-5, atol=1e-5
            )
    median = region.ensemble["temp_delta_c"].sel(statistic="median").isel(point=0).values
    np.testing.assert_allclose(median, np.median(region.changes["temp_delta_c"].isel(point=0).values, axis=0))


def test_region_bad_input(cmip6_archive, tmp_path):
    settings = cmip6_local_settings(cmip6_archive, tmp_path / "cache")
    with pytest.raises(BadRequestError, match="open sea"):
        project_region([Point(0.0, -30.0)], "ssp245", 2050, settings)
    with pytest.raises(BadRequestError, match="points"):
        project_region([], "ssp245", 2050, settings)
    with pytest.raises(BadRequestError, match="Unknown scenario"):
        project_region(POINTS, "ssp1", 2050, settings)


@pytest.mark.slow
def test_a_dask_distributed_scheduler_runs_the_same_graph(cmip6_archive, cmip6_server, tmp_path):
    from distributed import LocalCluster

    local = project_region(POINTS, "ssp245", 2050, cmip6_local_settings(cmip6_archive, tmp_path / "a"))
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp", dashboard_address=None
    ) as cluster:
        settings = cmip6_http_settings(cmip6_server, tmp_path / "b").with_(dask_scheduler=cluster.scheduler_address)
        done = []
        remote = project_region(POINTS, "ssp245", 2050, settings, progress=lambda d, t, m: done.append((d, t)))
    assert done[-1][0] == done[-1][1] == 12  # 3 models x 4 changes, reported as each finishes
    np.testing.assert_allclose(remote.changes["temp_delta_c"].values, local.changes["temp_delta_c"].values)
    assert any("/ECO-GREG/ssp245/" in r.path for r in cmip6_server.requests)  # the workers read over HTTP
