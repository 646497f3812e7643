"""Widget values read once into forms: decimal commas, empty boxes, messages that name the field."""

from __future__ import annotations

import pytest

from app.forms import GenerateForm, GridForm, ModelsForm, ObserveForm, TimelapseForm, read_int, read_number, read_point
from core.errors import BadRequestError
from core.geo import Month, Point


def test_a_decimal_comma_is_a_decimal_point_and_thousands_separators_are_refused_by_name():
    assert read_number("24,8", "latitude") == pytest.approx(24.8)
    assert read_number(" -11.4 ", "longitude") == pytest.approx(-11.4)
    assert read_number("\u22122,5", "temperature change") == pytest.approx(-2.5)
    with pytest.raises(BadRequestError, match="The latitude '1.234,5' is not a number") as caught:
        read_number("1.234,5", "latitude")
    assert "decimal comma" in caught.value.fix
    with pytest.raises(BadRequestError, match="The seed '7.5' is not a whole number"):
        read_int("7.5", "seed")


def test_no_point_means_pick_a_place_first():
    with pytest.raises(BadRequestError, match="No place is picked yet") as caught:
        read_point("", None)
    assert "click the map" in caught.value.fix
    assert read_point("24,8", "-11,4") == Point(24.8, -11.4)


def test_a_generate_form_is_parsed_once_into_typed_parts():
    values = dict(
        lat="24,8", lon=-11.4, month="2020-02", land_cover="Barren or Sparsely Vegetated", cloud_pct="12,5",
        temp_c="28,04", precip_mm_day="1.54", solar_mj_m2_day=20.4, temp_delta_c=4, precip_pct=-30, mode="text",
        control_months_before=2, model_id="", seed="7", steps=2, guidance="5,5", size_px=512, controlnet=" ",
        lora="", lora_scale=None,
    )  # fmt: skip
    form = GenerateForm.parse(values, default_model="tiny-random")
    assert form.point == Point(24.8, -11.4) and form.month == Month(2020, 2)
    assert form.cloud_fraction == pytest.approx(0.125)
    assert (form.observed.temp_c, form.observed.complete) == (pytest.approx(28.04), True)
    # the sliders' numbers are the "Hot and dry" preset: the scenario carries its name
    assert form.scenario.change.temp_delta_c == 4.0 and form.scenario.change.precip_change_pct == -30.0
    assert form.scenario.name == "Hot and dry"
    assert form.model.model_id == "tiny-random" and form.model.controlnet is None and form.model.lora_scale == 1.0
    assert (form.sampling.seed, form.sampling.guidance, form.control_months_before) == (7, 5.5, 2)
    with pytest.raises(BadRequestError, match="observed precipitation"):
        GenerateForm.parse({**values, "precip_mm_day": "wet"})
    with pytest.raises(BadRequestError, match="No place is picked yet"):
        GenerateForm.parse({**values, "lat": ""})
    with pytest.raises(BadRequestError, match="The month"):
        ObserveForm.parse(("24.8", "-11.4", "Feb 2020"))


def test_the_longer_forms_share_the_generate_form_and_name_what_is_wrong():
    common = dict(lat="24.8", lon="-11.4", land_cover="Croplands", cloud_pct=None, model_id="", seed=3, steps=2)
    timelapse = TimelapseForm.parse(
        {**common, "start": "2020-01", "end": "2020-03", "climate_source": "observed", "temp_delta_c": 4,
         "precip_pct": -30, "chain": "controlnet", "side_by_side": True, "video_format": "mp4", "fps": None},
        default_model="tiny-random",
    )  # fmt: skip
    # an observed-climate time-lapse drops the sliders' change; its frames are text prompts
    assert timelapse.base.scenario.is_today and timelapse.base.mode == "text" and timelapse.mode == "controlnet"
    assert (timelapse.fps, timelapse.base.model.model_id, timelapse.base.month) == (2.0, "tiny-random", Month(2020, 1))
    with pytest.raises(BadRequestError, match="before the start month"):
        TimelapseForm.parse({**common, "start": "2020-03", "end": "2020-01", "climate_source": "", "chain": "",
                             "video_format": ""}, "tiny-random")  # fmt: skip
    with pytest.raises(BadRequestError, match="Unknown format 'avi'"):
        TimelapseForm.parse({**common, "start": "2020-01", "end": "2020-02", "climate_source": "", "chain": "",
                             "video_format": "avi"}, "tiny-random")  # fmt: skip
    grid = GridForm.parse({**common, "month": "2020-02", "temp_deltas_text": "0; 2,5", "precip_pcts_text": "-30"}, "x")
    assert (grid.temp_deltas_c, grid.precip_changes_pct, grid.base.scenario.is_today) == ((0.0, 2.5), (-30.0,), True)
    with pytest.raises(BadRequestError, match="No land cover is chosen"):
        GridForm.parse({**common, "land_cover": "", "month": "2020-02", "temp_deltas_text": "0",
                        "precip_pcts_text": "0"}, "x").base.require_land_cover()  # fmt: skip


def test_the_models_form_keeps_a_scenario_only_beside_a_complete_observed_climate():
    values = dict(lat="24.8", lon="-11.4", month="2020-02", land_cover="Croplands", cloud_pct=150, temp_c="20",
                  precip_mm_day="", solar_mj_m2_day="18", temp_delta_c=2, precip_pct=0, seed=None)  # fmt: skip
    form = ModelsForm.parse(values)
    assert form.observed_climate is None and form.cloud_fraction == 1.0 and form.seed == 0
    assert ModelsForm.parse({**values, "precip_mm_day": "1,5"}).observed_climate.precip_mm_day == pytest.approx(1.5)
    with pytest.raises(BadRequestError, match="No land cover is chosen"):
        ModelsForm.parse({**values, "land_cover": " "})
