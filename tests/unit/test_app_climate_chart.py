"""The Climate tab's chart marks the scenario on the observed month (issue 25), one star per panel."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import xarray as xr

from app.charts import climate_figure
from core.climate.values import ClimateValues


def _history() -> xr.Dataset:
    times = pd.date_range("2019-03-01", "2020-02-01", freq="MS")
    ramp = np.linspace(0.0, 1.0, len(times))
    return xr.Dataset(
        {
            "temp_c": ("time", 20 + 8 * ramp),
            "precip_mm_day": ("time", 1 + ramp),
            "solar_mj_m2_day": ("time", 18 + ramp),
        },
        coords={"time": times},
    )


def _stars(figure) -> list[tuple[object, float]]:
    return [
        (line.get_xdata()[0], float(line.get_ydata()[0]))
        for axis in figure.axes
        for line in axis.get_lines()
        if line.get_marker() == "*"
    ]


def test_the_scenario_is_a_star_on_the_month_in_every_panel():
    month = date(2020, 2, 1)
    scenario = ClimateValues(temp_c=32.0, precip_mm_day=1.08, solar_mj_m2_day=20.4)
    figure = climate_figure(_history(), highlight=month, title="t", scenario=("+4 °C, −30 % rain", scenario))
    assert _stars(figure) == [(month, 32.0), (month, 1.08), (month, 20.4)]
    labels = [text.get_text() for axis in figure.axes for text in axis.texts]
    assert labels == ["scenario 32.0", "scenario 1.1", "scenario 20.4"]


def test_without_a_scenario_or_a_month_nothing_is_starred():
    assert _stars(climate_figure(_history(), highlight=date(2020, 2, 1))) == []
    scenario = ClimateValues(temp_c=32.0, precip_mm_day=1.08, solar_mj_m2_day=20.4)
    assert _stars(climate_figure(_history(), highlight=None, scenario=("x", scenario))) == []
