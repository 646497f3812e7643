"""fetch_climate against the local replay of the real POWER recordings: values, gaps, faults, cache."""

import json
import math
from datetime import date

import numpy as np
import pytest

from core.errors import BadRequestError, OfflineCacheMissError, UpstreamError
from core.geo import Month, Point
from core.sources.climate import climate_for_month, fetch_climate
from tests.conftest import REAL
from tests.support.replay_server import Fault

SAHARA = Point(24.8, -11.4)


def _recorded(name, parameter, key):
    return json.loads((REAL / name).read_text())["properties"]["parameter"][parameter][key]


def test_monthly_values_come_from_the_recording_with_units(data_settings):
    ds = fetch_climate(SAHARA, Month(2020, 1), Month(2020, 3), data_settings)
    assert list(ds["time"].values.astype("datetime64[D]").astype(str)) == ["2020-01-01", "2020-02-01", "2020-03-01"]
    assert ds["temp_c"].attrs["units"] == "C" and ds["solar_mj_m2_day"].attrs["units"] == "MJ/m^2/day"
    assert list(ds["source"].values) == ["monthly"] * 3
    values = climate_for_month(ds, Month(2020, 2))
    assert values.temp_c == _recorded("nasa_power_monthly_point_2010_2025.json", "T2M", "202002")
    assert values.precip_mm_day == _recorded("nasa_power_monthly_point_2010_2025.json", "PRECTOTCORR", "202002")
    assert 5 < values.solar_mj_m2_day < 35  # the server's computed series (see tests/support/README.md)


def test_unpublished_months_are_filled_from_daily_values_and_marked(replay_server, data_settings):
    replay_server.power_monthly_published_until = (2022, 6)
    ds = fetch_climate(SAHARA, Month(2022, 5), Month(2022, 8), data_settings)
    assert list(ds["source"].values) == ["monthly", "monthly", "daily-aggregate", "daily-aggregate"]
    daily = json.loads((REAL / "nasa_power_daily_point_temps_20050101_20220831.json").read_text())
    july = [v for k, v in daily["properties"]["parameter"]["T2M"].items() if k.startswith("202207")]
    assert len(july) == 31
    assert float(ds["temp_c"].values[2]) == pytest.approx(np.mean(july))
    # the daily recording has no precipitation: that month is incomplete, and says so
    assert math.isnan(float(ds["precip_mm_day"].values[2]))
    with pytest.raises(UpstreamError, match="no precip_mm_day, solar_mj_m2_day for 2022-07"):
        climate_for_month(ds, Month(2022, 7))


def test_a_year_of_fill_values_is_a_clear_error(data_settings):
    with pytest.raises(UpstreamError, match=r"no data for 2025-03\.\.2025-05 .*-999"):
        fetch_climate(SAHARA, Month(2025, 3), Month(2025, 5), data_settings)


def test_a_requested_parameter_missing_from_the_answer_is_nan_and_named(replay_server, data_settings):
    replay_server.power_verbatim = True
    ds = fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings)
    assert ds.attrs["missing_parameters"] == "ALLSKY_SFC_SW_DWN"
    with pytest.raises(UpstreamError, match="no solar_mj_m2_day for 2020-02"):
        climate_for_month(ds, "2020-02")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("2022-05", "2022-01", "before the start"), ("2031-01", "2031-02", "in the future"), ("2020-13", "2021-01", "13")],
)
def test_bad_ranges_are_refused_before_any_request(replay_server, data_settings, start, end, message):
    with pytest.raises(BadRequestError, match=message):
        fetch_climate(SAHARA, Month.parse(start), Month.parse(end), data_settings, today=date(2026, 11, 23))
    assert replay_server.requests_to("/power") == []


def test_second_request_is_served_from_the_cache_even_offline(replay_server, data_settings):
    first = fetch_climate(SAHARA, Month(2020, 1), Month(2020, 12), data_settings)
    count = len(replay_server.requests_to("/power"))
    again = fetch_climate(SAHARA, Month(2020, 1), Month(2020, 12), data_settings.with_(offline=True))
    assert len(replay_server.requests_to("/power")) == count
    assert np.array_equal(first["temp_c"].values, again["temp_c"].values)
    with pytest.raises(OfflineCacheMissError, match="Offline mode is on"):
        fetch_climate(SAHARA, Month(2019, 1), Month(2019, 2), data_settings.with_(offline=True))


def test_429_then_success_is_retried(replay_server, data_settings):
    replay_server.inject("/power/monthly", Fault("status", status=429))
    ds = fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings)
    assert float(ds["temp_c"].values[0]) == _recorded("nasa_power_monthly_point_2010_2025.json", "T2M", "202002")
    assert [r.status for r in replay_server.requests_to("/power/monthly")] == [429, 200]


def test_a_persistent_500_is_our_error_with_the_status(replay_server, data_settings):
    replay_server.inject("/power/monthly", *[Fault("status", status=500)] * 3)
    with pytest.raises(UpstreamError, match="HTTP 500") as info:
        fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings)
    assert info.value.status == 500 and info.value.service == "NASA POWER"
    assert len(replay_server.requests_to("/power/monthly")) == 3  # first try + 2 retries


def test_malformed_json_is_our_error_and_not_cached(replay_server, data_settings):
    replay_server.inject("/power/monthly", Fault("malformed"))
    with pytest.raises(UpstreamError, match="not JSON"):
        fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings)
    ds = fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings)
    assert not math.isnan(float(ds["temp_c"].values[0]))


def test_a_timeout_is_our_error(replay_server, data_settings):
    replay_server.inject("/power/monthly", Fault("delay", seconds=1.5))
    with pytest.raises(UpstreamError, match="did not answer"):
        fetch_climate(SAHARA, Month(2020, 2), Month(2020, 2), data_settings.with_(timeout_s=0.3, retries=0))


def test_a_provisional_series_is_refetched_later_and_a_final_one_is_not(replay_server, data_settings):
    data_settings = data_settings.with_(fresh_month_ttl_s=0.0)  # "a day later"
    replay_server.power_monthly_published_until = (2022, 6)
    fetch_climate(SAHARA, Month(2022, 6), Month(2022, 7), data_settings)  # July from daily values
    fetch_climate(SAHARA, Month(2020, 1), Month(2020, 2), data_settings)  # all monthly: final
    count = len(replay_server.requests_to("/power"))
    replay_server.power_monthly_published_until = None  # POWER has published July since
    again = fetch_climate(SAHARA, Month(2022, 6), Month(2022, 7), data_settings)
    assert list(again["source"].values) == ["monthly", "monthly"]
    fetch_climate(SAHARA, Month(2020, 1), Month(2020, 2), data_settings)
    assert len(replay_server.requests_to("/power")) == count + 1  # only the provisional one went out
