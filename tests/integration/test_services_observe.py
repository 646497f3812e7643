"""core.services.observe against the replay server: each part on its own, and defaults found by asking."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from core.errors import BadRequestError, NoImageryError
from core.geo import Month, Point
from core.services import default_timelapse_range, latest_month, observe

SAHARA = Point(24.8, -11.4)


def test_a_month_with_a_scene_gives_every_part(data_settings):
    seen = observe(SAHARA, "2020-02", data_settings, history_months=6)
    assert seen.scene is not None and seen.image.shape == (512, 512, 3) and seen.scene_problem is None
    assert seen.climate is not None and seen.climate_problem is None
    assert seen.climate_history.sizes["time"] == 6
    assert seen.land_cover is not None and seen.land_cover_source
    assert seen.country == "Mauritania"  # the administrative boundary that contains the point
    assert seen.as_dict()["scene"]["scene_id"] == seen.scene.scene_id


def test_a_month_without_a_scene_still_gives_climate_land_cover_and_place(data_settings):
    with_scene = observe(SAHARA, "2020-02", data_settings)
    seen = observe(SAHARA, "2020-03", data_settings)
    assert seen.scene is None and seen.image is None
    assert "2020-03" in seen.scene_problem
    assert seen.climate is not None and seen.climate != with_scene.climate
    assert seen.land_cover == with_scene.land_cover and seen.place_label == with_scene.place_label


def test_a_failing_climate_service_leaves_the_image(data_settings, replay_server):
    from tests.support.replay_server import Fault

    replay_server.inject("/power/", *[Fault("status", status=500)] * 6)
    seen = observe(SAHARA, "2020-02", data_settings)
    assert seen.scene is not None and seen.climate is None and "500" in seen.climate_problem


def test_bad_points_and_future_months_are_refused(data_settings):
    with pytest.raises(BadRequestError, match="Pick a place on the map first"):
        observe(None, "2020-02", data_settings)
    with pytest.raises(BadRequestError, match="in the future"):
        observe(SAHARA, "2199-01", data_settings)


def test_latest_month_has_both_a_published_power_value_and_a_scene(data_settings, replay_server):
    # POWER has every month of 2020 and the only scenes are of February 2020
    assert latest_month(SAHARA, data_settings, today=date(2020, 6, 15)) == Month(2020, 2)
    searched = [r.body["datetime"][:7] for r in replay_server.requests_to("/stac/v1/search") if r.body]
    assert searched[:4] == ["2020-05", "2020-04", "2020-03", "2020-02"]


def test_latest_month_refuses_months_power_has_not_published(data_settings, replay_server):
    replay_server.power_monthly_published_until = (2020, 1)  # February is only a daily aggregate
    with pytest.raises(NoImageryError, match="No month from 2018-06 to 2020-05 has both"):
        latest_month(SAHARA, data_settings, today=date(2020, 6, 15))


def test_default_timelapse_range_is_the_last_complete_twelve_months():
    assert default_timelapse_range(date(2026, 9, 14)) == (Month(2025, 9), Month(2026, 8))
    assert default_timelapse_range(latest=Month(2025, 12)) == (Month(2025, 1), Month(2025, 12))


def test_a_request_is_built_from_one_observation_only(data_settings):
    from core.errors import BadRequestError
    from core.services import ModelSpec, Scenario, request_for

    seen = observe(SAHARA, "2020-02", data_settings)
    req = request_for(seen, ModelSpec("tiny-random"), scenario=Scenario.of_change(3.0), seed=4)
    assert (req.point, req.month, req.land_cover) == (SAHARA, Month(2020, 2), seen.land_cover)
    assert req.observed_climate == seen.climate and req.climate.temp_c == round(seen.climate.temp_c + 3.0, 2)
    assert req.cloud_fraction == round(seen.cloud_fraction, 4) and req.country == "Mauritania" and req.seed == 4
    no_cover = dataclasses.replace(seen, land_cover=None, land_cover_problem="the land-cover service is down")
    with pytest.raises(BadRequestError, match=r"No land cover is known at .* \(the land-cover service is down\)"):
        request_for(no_cover, ModelSpec("tiny-random"))
    assert request_for(no_cover, ModelSpec("tiny-random"), land_cover="Croplands").land_cover == "Croplands"
