"""core.climate.scenario: the change applied to observed climate, its label, JSON round trip and validation."""

from __future__ import annotations

import json

import pytest

from core.climate.scenario import SCENARIO_KINDS, SCENARIO_PRESETS, ClimateChange, Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month

OBSERVED = ClimateValues(21.4, 3.2, 19.9)


def test_today_leaves_the_climate_as_observed():
    today = Scenario.today()
    assert today.is_today and today.label == "today"
    assert today.apply(OBSERVED) == OBSERVED


def test_change_adds_temperature_and_radiation_and_scales_rain_by_percent():
    scenario = Scenario.of_change(3.0, -30.0, 1.5)
    assert scenario.apply(OBSERVED, Month(2021, 3)) == ClimateValues(24.4, 2.24, 21.4)
    assert scenario.label == "+3 °C, \u221230 % rain, +1.5 MJ/m²/day sun"
    assert Scenario.of_change(-1.5).label == "\u22121.5 °C"
    assert Scenario.of_change(0, 20, name="Wetter").label == "Wetter (+20 % rain)"


def test_results_are_rounded_to_the_recorded_precision():
    # 3.3 * 1.2 is 3.9599999999999995 in floating point; outputs must not carry that
    result = Scenario.of_change(0.1, 20.0).apply(ClimateValues(0.2, 3.3, 10.0))
    assert result.precip_mm_day == 3.96 and result.temp_c == 0.3
    assert json.dumps(result.as_dict()) == '{"temp_c": 0.3, "precip_mm_day": 3.96, "solar_mj_m2_day": 10.0}'


def test_json_round_trip_recomputes_the_label():
    for scenario in (*SCENARIO_PRESETS, Scenario.of_change(2.5, -12.0, -3.0, name="Class demo")):
        data = json.loads(json.dumps(scenario.as_dict()))
        assert Scenario.from_dict(data) == scenario
    forged = {**Scenario.of_change(4.0).as_dict(), "label": "today"}
    assert Scenario.from_dict(forged).label == "+4 °C"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Scenario.of_change(float("nan")), "temperature change nan is not a number"),
        (lambda: Scenario.of_change(45.0), "temperature change 45 °C is outside -30..30"),
        (lambda: Scenario.of_change(0.0, -120.0), "precipitation change -120 % is outside -100..900"),
        (lambda: Scenario.of_change(True), "temperature change True is not a number"),
        (lambda: Scenario(kind="forecast"), "Unknown scenario kind 'forecast'"),
        (lambda: Scenario(change=(1, 2, 3)), "is not a ClimateChange"),
        (lambda: Scenario.from_dict({"kind": "change", "temp_delta": 2}), "unknown fields \\['temp_delta'\\]"),
        (lambda: Scenario.from_dict([1, 2]), "is not an object"),
        (lambda: Scenario.of_change(0, 0, -25.0).apply(OBSERVED), "cannot apply to 21.4 °C"),
    ],
)
def test_bad_scenarios_say_what_is_wrong(make, message):
    with pytest.raises(BadRequestError, match=message):
        make()


def test_every_kind_answers_the_same_questions():
    # the extension point: a kind resolves a month's change, names itself and round-trips
    # the smallest valid JSON of each kind (a projection carries its 12 resolved monthly changes)
    examples = {
        "change": {"kind": "change"},
        "projection": {"kind": "projection", "ssp": "ssp245", "horizon": 2050, "monthly": [{"temp_delta_c": 1.5}] * 12},
    }
    assert set(examples) == set(SCENARIO_KINDS)
    for name, kind in SCENARIO_KINDS.items():
        scenario = Scenario.from_dict(examples[name])
        assert isinstance(kind.change_for(scenario, Month(2020, 7)), ClimateChange)
        assert kind.label(scenario) and Scenario.from_dict(scenario.as_dict()) == scenario


def test_a_change_on_top_composes_degrees_additively_and_rain_multiplicatively():
    assert ClimateChange(1.0, 20.0, 0.5).then(ClimateChange(2.0, -50.0, -1.0)) == ClimateChange(3.0, -40.0, -0.5)
    assert Scenario.of_change(2.0).plus(ClimateChange(0.0, -30.0)) == Scenario.of_change(2.0, -30.0)


def test_a_projection_plus_a_change_keeps_the_projection_and_records_the_change_after_it():
    projected = Scenario.from_dict(
        {"kind": "projection", "ssp": "ssp245", "horizon": 2050,
         "monthly": [{"temp_delta_c": 1.5, "precip_change_pct": 10.0}] * 12}
    )  # fmt: skip
    varied = projected.plus(ClimateChange(2.0, -50.0))
    march = Month(2021, 3)
    assert varied.kind == "projection" and varied.projection == projected.projection
    # 21.4 + 1.5 + 2 °C; 3.2 mm x 1.1 x 0.5
    assert varied.apply(OBSERVED, march) == ClimateValues(24.9, 1.76, 19.9)
    assert varied.label == projected.label + ", then +2 °C, \u221250 % rain"
    again = Scenario.from_dict(json.loads(json.dumps(varied.as_dict())))
    assert again == varied and again.apply(OBSERVED, march) == varied.apply(OBSERVED, march)
    assert "then" not in projected.as_dict()  # a plain projection's JSON is as before
    with pytest.raises(BadRequestError, match="then"):
        Scenario.from_dict({**varied.as_dict(), "then": [1, 2]})
