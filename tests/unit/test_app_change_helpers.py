"""Issue 20's app helpers: the Edit / Invert options read from the form, the samples box, and the exports'
content-credentials note."""

from __future__ import annotations

import pytest

from app.forms import GenerateForm
from app.handlers.change import edit_options_for, greenness_line, read_samples
from app.handlers.generate import credentials_note
from app.handlers.requests import edit_options
from core.errors import BadRequestError

BASE = {"lat": 24.8, "lon": -11.4, "month": "2020-02", "land_cover": "Grasslands"}


def test_edit_options_are_read_in_edit_mode_and_reach_the_request_options():
    form = GenerateForm.parse({**BASE, "mode": "edit", "n_max": 20, "n_min": "2", "n_avg": 3,
                               "source_guidance": "3,5", "target_guidance": ""})  # fmt: skip
    options = edit_options(form)
    assert (options.n_max, options.n_min, options.n_avg) == (20, 2, 3)
    assert options.source_guidance == 3.5 and options.target_guidance is None  # empty: FlowEdit's default
    # 0 / empty mean the defaults; inversion has no n_min / n_avg, and text mode no options at all
    assert edit_options(GenerateForm.parse({**BASE, "mode": "invert", "n_max": 0, "n_min": 4})).n_min == 0
    assert GenerateForm.parse({**BASE, "mode": "text", "n_max": 20}).edit is None


def test_a_bad_mode_or_edit_option_is_refused_naming_it():
    with pytest.raises(BadRequestError, match="Unknown mode 'inpaint'"):
        GenerateForm.parse({**BASE, "mode": "inpaint"})
    with pytest.raises(BadRequestError, match="n_max"):
        GenerateForm.parse({**BASE, "mode": "edit", "n_max": 2.5})


def test_samples_and_the_options_box():
    assert read_samples("4", 2, 8) == 4 and read_samples(None, 2, 8) == 3
    with pytest.raises(BadRequestError, match="1 samples is not 2 to 8"):
        read_samples(1, 2, 8)
    assert edit_options_for("invert")["edit_options"]["visible"] is True
    assert edit_options_for("controlnet")["edit_options"]["visible"] is False


def test_the_credentials_note_is_short():
    assert credentials_note("content credentials signed (C2PA, es256)") == " · C2PA: signed (C2PA, es256)"
    unsigned = "no content credentials: no signing key configured (set ECOMAPPER_C2PA_CERT and ...); the image ..."
    assert credentials_note(unsigned) == " · C2PA: none (no signing key configured)"
    assert credentials_note("") == ""


def test_the_greenness_line_names_the_index_and_says_when_there_is_no_real_image():
    line = greenness_line({"index": "ExG", "real": 0.01234, "today": 0.02, "scenario": -0.01,
                           "change_scenario_minus_today": -0.03})  # fmt: skip
    assert line == "Greenness (ExG, from RGB, not NDVI): real 0.012, today 0.020, scenario -0.010 (change -0.030)."
    assert "no real image" in greenness_line({"index": "ExG", "real": None, "today": 0.0, "scenario": 0.0,
                                              "change_scenario_minus_today": 0.0})  # fmt: skip
    assert greenness_line({}) == ""
