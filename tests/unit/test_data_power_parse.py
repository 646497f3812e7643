"""Parsing the three real NASA POWER recordings: header layouts, YYYY13, int/float -999, units."""

import json
import math

import pytest

from core.errors import UpstreamError
from core.geo import Point
from core.sources.climate import parse_power_response
from tests.conftest import REAL, require_shared


def _load(name):
    return json.loads((require_shared(REAL) / name).read_text())


def test_monthly_point_keeps_yyyy13_out_of_the_months_and_fills_become_nan():
    raw = _load("nasa_power_monthly_point_2010_2025.json")
    parsed = parse_power_response(raw)
    t2m = parsed.series["T2M"]
    assert not any(key.endswith("13") and int(key[4:]) == 13 for key in t2m)
    assert len(t2m) == 16 * 12  # 2010..2025, twelve months each
    assert parsed.annual["T2M"][2010] == raw["properties"]["parameter"]["T2M"]["201013"]
    assert raw["properties"]["parameter"]["T2M"]["202503"] == -999  # an int in the file
    assert math.isnan(t2m["202503"]) and math.isnan(parsed.annual["T2M"][2025])
    assert t2m["202002"] == pytest.approx(raw["properties"]["parameter"]["T2M"]["202002"])
    assert parsed.units["T2M"] == "C" and parsed.units["PRECTOTCORR"] == "mm/day"
    assert parsed.version == "v2.6.8"
    assert (parsed.latitude, parsed.longitude) == (-12.255, -38.954)


def test_old_daily_header_without_time_standard_and_integer_values_parse():
    raw = _load("nasa_power_daily_point_temps_20050101_20220831.json")
    assert "time_standard" not in raw["header"]
    parsed = parse_power_response(raw)
    assert parsed.version == "v2.3.3"
    assert len(parsed.series["T2M"]) == 6452
    assert raw["properties"]["parameter"]["T2M"]["20050203"] == 19  # an int in the file
    assert parsed.series["T2M"]["20050203"] == 19.0
    assert parsed.annual["T2M"] == {}


def test_regional_answer_picks_the_feature_nearest_the_point_and_reads_units():
    raw = _load("nasa_power_monthly_regional_2022.json")
    parsed = parse_power_response(raw, Point(38.7, 24.8))
    assert (parsed.latitude, parsed.longitude) == (38.75, 24.75)
    assert parsed.units["ALLSKY_SFC_SW_DWN"] == "MJ/m^2/day"
    assert set(parsed.series["T2M_MAX"]) == {f"2022{m:02d}" for m in range(1, 13)}
    feature = next(f for f in raw["features"] if f["geometry"]["coordinates"][:2] == [24.75, 38.75])
    assert parsed.annual["T2M_MAX"][2022] == feature["properties"]["parameter"]["T2M_MAX"]["202213"]


def test_an_error_answer_is_our_upstream_error():
    with pytest.raises(UpstreamError, match="without data"):
        parse_power_response({"header": {}, "messages": ["The start date is after the end date"]})
