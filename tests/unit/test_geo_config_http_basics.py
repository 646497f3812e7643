import math

import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Footprint, Month, Point, month_range, utm_epsg


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [(91, 0, "latitude 91"), (0, 200, "longitude 200"), (math.nan, 0, "not a number")],
)
def test_bad_points_say_what_was_wrong(lat, lon, message):
    with pytest.raises(BadRequestError, match=message):
        Point(lat, lon)


def test_month_parsing_and_arithmetic():
    assert str(Month.parse("2021-7")) == "2021-07"
    assert Month.parse("2021-12") + 1 == Month(2022, 1)
    assert Month(2022, 3) - Month(2021, 12) == 3
    assert Month(2024, 2).last_day.day == 29
    assert Month(2023, 2).last_day.day == 28
    # the last allowed month has a last day too (no step into the out-of-range year 2201)
    assert Month(2200, 12).last_day.isoformat() == "2200-12-31"
    with pytest.raises(BadRequestError, match="month number 13"):
        Month.parse("2021-13")
    with pytest.raises(BadRequestError, match="YYYY-MM"):
        Month.parse("July")


def test_future_month_and_reversed_range_are_refused():
    from datetime import date

    with pytest.raises(BadRequestError, match="in the future"):
        Month(2031, 1).ensure_not_future(today=date(2026, 11, 23))
    assert Month(2026, 11).ensure_not_future(today=date(2026, 11, 23)) == Month(2026, 11)
    with pytest.raises(BadRequestError, match="before the start"):
        month_range("2022-05", "2022-01")
    assert len(month_range("2021-01", "2021-12")) == 12


def test_footprint_is_512_px_of_10_m_in_local_utm():
    fp = Footprint.around(Point(24.8, -11.4))
    assert fp.epsg == 32629
    min_x, min_y, max_x, max_y = fp.bounds
    assert (max_x - min_x, max_y - min_y) == (5120.0, 5120.0)
    assert min_x % 10 == 0 and max_y % 10 == 0
    min_lon, min_lat, max_lon, max_lat = fp.bbox
    assert min_lon < -11.4 < max_lon and min_lat < 24.8 < max_lat
    # 5.12 km is about 0.046 degrees of latitude
    assert 0.045 < max_lat - min_lat < 0.048


def test_footprint_transform_at_other_sizes_covers_the_same_square():
    fp = Footprint.around(Point(24.8, -11.4))
    assert tuple(fp.transform_at(512))[:6] == (10.0, 0.0, fp.min_x, 0.0, -10.0, fp.max_y)
    coarse = fp.transform_at(128)
    assert (coarse.a, coarse.e) == (40.0, -40.0)
    # the far corner of either grid is the footprint's lower-right corner
    assert coarse @ (128, 128) == fp.transform @ (512, 512) == (fp.bounds[2], fp.bounds[1])


def test_footprint_across_the_antimeridian_wraps_its_bbox():
    fp = Footprint.around(Point(-17.0, 179.99))
    assert fp.crosses_antimeridian
    min_lon, _, max_lon, _ = fp.bbox
    assert min_lon > 179.9 and max_lon < -179.9
    assert len(fp.bbox_parts()) == 2
    assert fp.geojson()["type"] == "MultiPolygon"


def test_grid_choice_near_the_poles_and_in_norway():
    assert utm_epsg(Point(83.9, 10.0)) == 32633  # Svalbard exception
    assert utm_epsg(Point(84.5, 10.0)) == 32661  # UPS north beyond UTM
    assert utm_epsg(Point(-80.5, 10.0)) == 32761  # UPS south
    assert utm_epsg(Point(60.0, 5.0)) == 32632  # south-west Norway
    fp = Footprint.around(Point(85.0, 0.0))
    assert fp.bounds[2] - fp.bounds[0] == 5120.0


def test_settings_from_env_reads_prefixed_variables(tmp_path):
    s = Settings.from_env(
        {"ECOMAPPER_OFFLINE": "yes", "ECOMAPPER_CACHE_DIR": str(tmp_path), "ECOMAPPER_STAC_URL": "http://x/v1/"}
    )
    assert s.offline is True and s.cache_dir == tmp_path and s.stac_url == "http://x/v1"
    with pytest.raises(BadRequestError, match="ECOMAPPER_RETRIES"):
        Settings.from_env({"ECOMAPPER_RETRIES": "many"})
    with pytest.raises(BadRequestError, match="STAC provider"):
        Settings.from_env({"ECOMAPPER_STAC_PROVIDER": "google"})


@pytest.mark.parametrize("device", ["cuda:x", "cuda:", "gpu", "cuda:1 ", "cuda:1\n"])
def test_settings_and_model_spec_refuse_the_same_bad_devices(device):
    from core.models.spec import ModelSpec

    with pytest.raises(BadRequestError, match="Unknown device"):
        Settings(device=device)
    with pytest.raises(BadRequestError, match="Unknown device"):
        ModelSpec("tiny-random", device=device)


def test_settings_and_model_spec_take_a_cuda_index_and_refuse_bad_dtypes():
    from core.models.spec import ModelSpec

    assert Settings(device="cuda:1").device == ModelSpec("tiny-random", device="cuda:1").device == "cuda:1"
    with pytest.raises(BadRequestError, match="Unknown dtype"):
        Settings(dtype="int8")
    with pytest.raises(BadRequestError, match="Unknown dtype"):
        ModelSpec("tiny-random", dtype="int8")


def test_climate_values_are_checked_against_physical_ranges():
    with pytest.raises(BadRequestError, match="temperature 75"):
        ClimateValues(75, 1, 10)
    with pytest.raises(BadRequestError, match="not a number"):
        ClimateValues(10, math.nan, 10)
    warmer = Scenario.of_change(3.0, 50.0).apply(ClimateValues(10, 2.0, 15))
    assert warmer == ClimateValues(13, 3.0, 15)
