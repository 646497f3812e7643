"""Widget values read once into forms: decimal commas, empty boxes, messages that name the field."""

from __future__ import annotations

import inspect

import pytest

from app.endpoints import form_endpoint
from app.forms import GenerateForm, ObserveForm, read_int, read_number, read_point
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


def test_an_endpoint_exposes_the_form_fields_as_its_parameters():
    seen = {}

    def handler(values, request, progress):
        seen.update(values)
        return "done"

    endpoint = form_endpoint(("lat", "lon", "month"), handler, "observe")
    names = list(inspect.signature(endpoint).parameters)
    assert names == ["lat", "lon", "month", "request", "progress"]
    assert endpoint("1", "2", "2020-02", None, None) == "done" and seen == {"lat": "1", "lon": "2", "month": "2020-02"}
