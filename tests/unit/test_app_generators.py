"""The Generators tab's box form and catalog (issue 22): the layout JSON it writes is the CLI's `--layout-json`."""

from __future__ import annotations

import json

import gradio as gr
import pytest

from app.handlers.generators import add_box, catalog_markdown, from_real_scene, generator_note, read_layout
from core.errors import BadRequestError
from core.services import parse_boxes


def test_added_boxes_make_the_layout_json_the_cli_reads():
    first = add_box("", "airplane", "0.1, 0.2, 0.4, 0.5")["layout_json"]
    both = add_box(first, "ship", "0,5; 0,5; 0,9; 0,8")["layout_json"]  # decimal commas between semicolons
    boxes = parse_boxes(json.loads(both))
    assert [b.label for b in boxes] == ["airplane", "ship"]
    assert boxes[0].corners == (0.1, 0.2, 0.4, 0.2, 0.4, 0.5, 0.1, 0.5)
    assert boxes[1].corners[:2] == (0.5, 0.5)


@pytest.mark.parametrize(
    ("corners", "message"),
    [("0.1, 0.2, 0.4", "not 4 numbers"), ("0.5, 0.2, 0.4, 0.6", "is empty"), ("0.1, 0.2, 1.4, 0.6", "0..1")],
)
def test_a_bad_box_is_refused_in_one_line(corners, message):
    # shown as the app shows every refusal: a visible gr.Error with core's one line (what, then what to do)
    with pytest.raises(gr.Error, match=message) as refused:
        add_box("", "airplane", corners)
    assert refused.value.visible and "0..1" in refused.value.message


def test_a_layout_that_is_not_json_or_not_boxes_is_refused():
    assert read_layout("  ") == []
    with pytest.raises(BadRequestError, match="not JSON"):
        read_layout("[{")
    with pytest.raises(BadRequestError, match="not a list of boxes"):
        read_layout('{"x": 1}')


def test_the_catalog_says_what_each_new_generator_ignores_and_its_licence(settings):
    table = catalog_markdown(settings, tiny=False)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert "no licence file" in rows["aerogen"] and "climate" in rows["aerogen"]
    assert "CC-BY-4.0" in rows["copgen"] and "place names (no text prompt)" in rows["copgen"]
    assert "MIT" in rows["zoomldm"] and "reads only the real image of the month" in rows["zoomldm"]
    assert "box layout" not in rows["aerogen"] and "box layout" in rows["copgen"]
    assert "Draw its boxes" in generator_note("tiny-aerogen", settings)
    assert "NDVI" in generator_note("copgen", settings) and generator_note("nope", settings) == ""
    terramind = next(line for name, line in rows.items() if name.startswith("terramind "))
    assert "Apache-2.0" in terramind and "month (no date input)" in terramind
    assert "terramind (optional extra: `pip install -r requirements-terramind.txt`)" in terramind
    assert "NDVI" in generator_note("terramind", settings) and "redraws" not in generator_note("terramind", settings)


def test_a_real_scene_month_makes_the_generator_request_img2img_from_that_scene():
    from core.geo import Month, Point
    from core.services import GenerationRequest

    base = GenerationRequest(point=Point(24.8, -11.4), month="2020-08", land_cover="Barren or Sparsely Vegetated")
    assert from_real_scene(base, "  ", 0.6) is base  # blank: drawn from noise, as before
    season = from_real_scene(base, "2020-02", "0,4")
    assert (season.mode, season.control_month, season.strength) == ("img2img", Month(2020, 2), 0.4)
    with pytest.raises(BadRequestError, match="after the month to generate"):
        from_real_scene(base, "2020-09", 0.4)
