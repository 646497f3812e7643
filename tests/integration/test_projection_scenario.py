"""Scenario kind "projection": resolved from the seeded CMIP6 archive, applied per month, recorded, generated."""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.projection import scenario_from_projection
from core.climate.scenario import Scenario, round_climate
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.generation.compositions import TimelapseRequest
from core.generation.request import GenerationRequest
from core.generation.runs import generate_images, generate_time_series
from core.geo import Month, Point
from core.sources.projections import project_climate
from tests.support.cmip6_fixtures import cmip6_local_settings

SAHARA = Point(24.8, -11.4)
OBSERVED = tuple(ClimateValues(20.0 + month, 1.0 + 0.1 * month, 15.0 + 0.5 * month) for month in range(12))


@pytest.fixture(scope="module")
def projection(cmip6_archive, tmp_path_factory):
    settings = cmip6_local_settings(cmip6_archive, tmp_path_factory.mktemp("cache"))
    return project_climate(SAHARA, "SSP5-8.5", 2100, settings, observed=OBSERVED)


@pytest.mark.parametrize("statistic", ["median", "p10", "p90"])
def test_applied_to_the_normal_it_gives_the_ensemble_value(projection, statistic):
    scenario = scenario_from_projection(projection, statistic)
    for month in (1, 7, 12):
        applied = scenario.apply(OBSERVED[month - 1], Month(2023, month))
        expected = round_climate(projection.values(month, statistic))
        assert applied.temp_c == pytest.approx(expected.temp_c, abs=0.011)
        assert applied.precip_mm_day == pytest.approx(expected.precip_mm_day, abs=0.011)
        assert applied.solar_mj_m2_day == pytest.approx(expected.solar_mj_m2_day, abs=0.011)


def test_label_json_round_trip_and_month_dependence(projection):
    scenario = scenario_from_projection(projection)
    assert scenario.label == "SSP5-8.5 2100" and not scenario.is_today
    assert scenario_from_projection(projection, "p90").label == "SSP5-8.5 2100 (p90)"
    data = scenario.as_dict()
    assert data["kind"] == "projection" and data["ssp"] == "ssp585" and len(data["monthly"]) == 12
    assert data["models"] == ["ECO-360DAY", "ECO-GREG", "ECO-NOLEAP"]
    assert Scenario.from_dict(data) == scenario
    january, july = scenario.change_for(Month(2030, 1)), scenario.change_for(Month(2030, 7))
    assert january != july  # the test models warm more later in the year
    assert july.temp_delta_c > january.temp_delta_c > 0
    with pytest.raises(BadRequestError, match="calendar month"):
        scenario.change_for(None)


def test_unresolved_or_malformed_projection_scenarios_are_refused():
    with pytest.raises(BadRequestError, match="no resolved projection"):
        Scenario(kind="projection")
    with pytest.raises(BadRequestError, match="12"):
        Scenario.from_dict({"kind": "projection", "ssp": "ssp245", "horizon": 2050, "monthly": []})
    with pytest.raises(BadRequestError, match="outside 2015-2100"):
        Scenario.from_dict({"kind": "projection", "ssp": "ssp245", "horizon": 2200, "monthly": [{}] * 12})


@pytest.mark.slow
def test_generate_and_a_series_accept_a_projection_scenario(projection, settings):
    from core.models import ModelSpec
    from core.models.engine import Engine

    engine = Engine.load(ModelSpec("tiny-random"), settings)
    scenario = scenario_from_projection(projection)
    base = GenerationRequest(
        point=SAHARA, month=Month(2021, 7), land_cover="Barren or Sparsely Vegetated", country="Western Sahara",
        observed_climate=OBSERVED[6], scenario=scenario, num_inference_steps=2, size_px=64, seed=3,
    )  # fmt: skip
    result = generate_images(base, engine, settings)
    assert result.request.climate == scenario.apply(OBSERVED[6], Month(2021, 7))
    assert f"{result.request.climate.temp_c:.0f} C" in result.prompts.climate
    today = generate_images(base.replace(scenario=Scenario.today()), engine, settings)
    assert not np.array_equal(today.image, result.image)  # the projected climate changes the prompt

    months = [Month(2021, 1), Month(2021, 2), Month(2021, 3)]
    series = TimelapseRequest(
        base=base, start=months[0], end=months[-1], scenario=scenario,
        climates=tuple((m, OBSERVED[m.month - 1]) for m in months),
    )  # fmt: skip
    frames = generate_time_series(series, engine, settings)
    assert [f.request.climate for f in frames.frames] == [
        scenario.apply(OBSERVED[m.month - 1], m) for m in months
    ]  # each calendar month gets its own change


@pytest.mark.slow
def test_horizon_timelapse_today_2050_2075_2100(cmip6_archive, settings, tmp_path):
    from core.generation.projection_timelapse import generate_horizon_frames, horizon_scenarios, write_horizon_timelapse
    from core.models import ModelSpec
    from core.models.engine import Engine

    cmip6 = cmip6_local_settings(cmip6_archive, tmp_path / "cache")
    base = GenerationRequest(
        point=SAHARA, month=Month(2021, 7), land_cover="Barren or Sparsely Vegetated", country="Western Sahara",
        observed_climate=OBSERVED[6], num_inference_steps=2, size_px=64, seed=3,
    )  # fmt: skip
    scenarios = horizon_scenarios(base, "ssp245", cmip6, observed=OBSERVED)
    assert [s.label for s in scenarios] == ["today", "SSP2-4.5 2050", "SSP2-4.5 2075", "SSP2-4.5 2100"]
    engine = Engine.load(ModelSpec("tiny-random"), settings)
    frames = generate_horizon_frames(base, scenarios, engine, settings)
    temps = [r.request.climate.temp_c for r in frames.results]
    assert temps == sorted(temps) and temps[0] == OBSERVED[6].temp_c  # warmer with each horizon
    assert frames.captions[1].endswith("SSP2-4.5 2050") and frames.captions[0].endswith("today")
    path = write_horizon_timelapse(frames, tmp_path / "horizons.gif")
    import imageio.v3 as iio

    assert iio.imread(path, index=None).shape[0] == 4


def test_service_gives_the_picker_choices_the_scenario_and_the_chart_table(cmip6_archive, tmp_path):
    from core.services import HORIZON_CHOICES, SSP_CHOICES, projected_climate

    assert HORIZON_CHOICES == (2050, 2075, 2100)
    assert ("SSP2-4.5 (ssp245)", "ssp245") in SSP_CHOICES and len(SSP_CHOICES) == 4
    settings = cmip6_local_settings(cmip6_archive, tmp_path / "cache")
    projected = projected_climate(SAHARA, "ssp245", 2075, settings, statistic="p90", observed=OBSERVED)
    assert projected.label == "SSP2-4.5 2075 (p90)"
    assert projected.summary().startswith("SSP2-4.5 2075 (p90) (2066-2085): median and 10-90 % spread of 3 CMIP6")
    table = projected.monthly_table()
    assert len(table) == 12 and table[6]["temp_c_observed"] == OBSERVED[6].temp_c
    july = projected.projection.values(7, "p90")
    assert table[6]["temp_c_p90"] == pytest.approx(july.temp_c)
    assert table[6]["temp_c_p10"] <= table[6]["temp_c_median"] <= table[6]["temp_c_p90"]
    applied = projected.scenario.apply(OBSERVED[6], Month(2024, 7))
    assert applied.temp_c == pytest.approx(july.temp_c, abs=0.011)


def test_importing_the_services_does_not_load_zarr_or_dask():
    import json
    import subprocess
    import sys

    from tests.conftest import REPO

    probe = (
        "import core.services, sys, json; "
        "print(json.dumps([m for m in ('zarr', 'dask', 'cftime') if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_a_recipe_with_a_projection_scenario_replays_without_the_network(projection, tmp_path):
    from core.export.image_files import read_recipe, write_recipe

    scenario = scenario_from_projection(projection, "p10")
    request = GenerationRequest(
        point=SAHARA, month=Month(2021, 7), land_cover="Barren or Sparsely Vegetated", country="Western Sahara",
        observed_climate=OBSERVED[6], scenario=scenario, num_inference_steps=2, size_px=64,
    )  # fmt: skip
    path = write_recipe(request, tmp_path / "r.recipe.json")
    again = read_recipe(path)
    assert again.scenario == scenario and again.scenario.label == "SSP5-8.5 2100 (p10)"
    assert again.climate == request.climate == scenario.apply(OBSERVED[6], Month(2021, 7))


def test_the_future_experiment_csv_is_filled_from_the_projections(cmip6_archive, tmp_path):
    from core.climate.future_csv import fill_future_csv
    from core.experiments.future import read_future_csv

    source = tmp_path / "future.csv"
    source.write_text(
        "location_id,date,latitude,longitude,type,location_address,cloud_coverage,average_temp,average_prep,"
        "average_rad,img_path\n"
        'loc1,2020-07,24.8,-11.4,Barren or Sparsely Vegetated,"Laayoune, Morocco",0.1,30.0,0.5,25.0,a.png\n'
        'loc1,2020-01,24.8,-11.4,Barren or Sparsely Vegetated,"Laayoune, Morocco",0.0,15.0,1.0,14.0,b.png\n'
    )
    settings = cmip6_local_settings(cmip6_archive, tmp_path / "cache")
    out = fill_future_csv(source, tmp_path / "filled.csv", "ssp245", settings, observed=OBSERVED)
    rows = read_future_csv(out)
    for row, month in zip(rows, (7, 1), strict=True):
        for year in (2050, 2075, 2100):
            scenario = scenario_from_projection(project_climate(SAHARA, "ssp245", year, settings, observed=OBSERVED))
            expected = scenario.apply(ClimateValues(*row.observed), Month(2020, month))
            assert row.projected[year] == pytest.approx(
                (expected.temp_c, expected.precip_mm_day, expected.solar_mj_m2_day)
            )
    assert rows[0].projected[2100][0] > rows[0].projected[2050][0] > 30.0  # warmer with each horizon
    with pytest.raises(BadRequestError, match="latitude"):
        (tmp_path / "bad.csv").write_text("location_id,date\nx,2020-01\n")
        fill_future_csv(tmp_path / "bad.csv", tmp_path / "o.csv", "ssp245", settings)
