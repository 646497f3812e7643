"""The EcoMapper prompts, character for character, and their validation."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from core.cli import main
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.generation.prompts import PromptInputs, build_prompts, caption_integer, climate_words, dropout_prompts
from core.geo import Month
from core.sources.land_cover_classes import LAND_COVER_CLASSES

CLIMATE_TAIL = (
    " The average temperature over the last month was {t} C. with an average precipitation {p} mm,"
    " and an average daily solar radiation of {r} W/m2."
)


def inputs(**changes) -> PromptInputs:
    base = dict(
        land_cover="Evergreen Needleleaf Forests",
        cloud_fraction=0.0,
        country="Canada",
        state="British Columbia",
        month=Month(2017, 7),
        climate=ClimateValues(14.44, 0.76, 23.56),
    )
    base.update(changes)
    return PromptInputs(**base)


@pytest.mark.parametrize(
    ("cloud", "phrase"),
    [
        (0.0, ""),
        (0.3, ""),
        (0.30001, "partially cloudy "),
        (0.5, "partially cloudy "),
        (0.50001, "cloudy "),
        (0.7, "cloudy "),
        (0.70001, "very cloudy "),
        (1.0, "very cloudy "),
    ],
)
def test_cloud_thresholds(cloud, phrase):
    prompts = build_prompts(inputs(cloud_fraction=cloud))
    assert prompts.spatial == (
        f"a {phrase}satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2017."
    )


def test_full_climate_prompt_exact():
    prompts = build_prompts(inputs(cloud_fraction=0.4))
    spatial = (
        "a partially cloudy satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2017."
    )
    assert prompts.spatial == spatial
    assert prompts.climate == (
        "a partially cloudy satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2017."
        " The average temperature over the last month was 14 C. with an average precipitation 1 mm,"
        " and an average daily solar radiation of 24 W/m2."
    )


@pytest.mark.parametrize("state", [None, "", "   "])
def test_no_state_says_in_country(state):
    prompts = build_prompts(inputs(state=state, country="Kenya", land_cover="Savannas", month=Month(2020, 1)))
    assert prompts.spatial == "a satellite image of Savannas in Kenya on January 2020."


@pytest.mark.parametrize(
    ("number", "name"),
    list(
        enumerate(
            [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ],
            start=1,
        )
    ),
)
def test_month_names(number, name):
    assert build_prompts(inputs(month=Month(2021, number))).spatial.endswith(f" on {name} 2021.")


@pytest.mark.parametrize(
    ("temp_c", "shown"),
    [
        (-24.38, "-24"),
        (-2.5, "-2"),  # half to even
        (-3.5, "-4"),
        (-0.4, "0"),  # never "-0"
        (0.5, "0"),
        (1.5, "2"),
        (14.5, "14"),
        (15.5, "16"),
        (14.51, "15"),
        (2.675, "3"),
    ],
)
def test_temperature_rounding(temp_c, shown):
    prompts = build_prompts(inputs(climate=ClimateValues(temp_c, 2.5, 3.5)))
    assert prompts.climate.endswith(CLIMATE_TAIL.format(t=shown, p="2", r="4"))


def test_caption_integer_matches_python_round_and_fstring_except_negative_zero():
    for value in np.linspace(-10, 10, 401):
        value = float(value)
        assert caption_integer(value) == round(value)
        if not -0.5 <= value < 0:
            assert str(caption_integer(value)) == f"{value:.0f}"


def test_without_climate_the_climate_prompt_is_the_spatial_prompt():
    prompts = build_prompts(inputs(climate=None))
    assert prompts.climate == prompts.spatial


def test_word_mode():
    prompts = build_prompts(inputs(climate=ClimateValues(-1.4, 1.03, 6.67)), word_mode=True)
    assert prompts.climate == prompts.spatial + (
        " The average temperature over the last month was Chilly, with Light precipitation, and Low daily solar"
        " radiation."
    )
    # the original create_captions.get_descriptive_word bins
    assert climate_words(ClimateValues(14.44, 0.76, 23.56)) == ("Mild", "Very Light", "High")
    assert climate_words(ClimateValues(35.0, 20.0, 4.81)) == ("Hot", "Moderate", "Very Low")


def test_dropout_is_seeded_and_drops_date_and_location():
    example = inputs(climate=None)
    seen = {dropout_prompts(example, random.Random(seed)).spatial for seed in range(200)}
    assert seen == {
        "a satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2017.",
        "a satellite image of Evergreen Needleleaf Forests in British Columbia, Canada.",
        "a satellite image of Evergreen Needleleaf Forests on July 2017.",
        "a satellite image of Evergreen Needleleaf Forests.",
    }
    first = [dropout_prompts(example, random.Random(7)).spatial for _ in range(3)]
    assert len(set(first)) == 1
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    run_a = [dropout_prompts(example, rng_a, 0.5, 0.5) for _ in range(20)]
    run_b = [dropout_prompts(example, rng_b, 0.5, 0.5) for _ in range(20)]
    assert run_a == run_b
    assert dropout_prompts(example, 1, 0.0, 0.0) == build_prompts(example)
    assert dropout_prompts(example, 1, 1.0, 1.0).spatial == "a satellite image of Evergreen Needleleaf Forests."


def test_dropout_keeps_the_climate_sentence():
    prompts = dropout_prompts(inputs(), 0, 1.0, 1.0)
    assert prompts.climate == "a satellite image of Evergreen Needleleaf Forests." + CLIMATE_TAIL.format(
        t="14", p="1", r="24"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"land_cover": "Forest"}, "Unknown land cover 'Forest'"),
        ({"land_cover": "Evergreen Needleleaf Forest"}, "Did you mean 'Evergreen Needleleaf Forests'"),
        ({"cloud_fraction": 40}, "outside 0..1"),
        ({"cloud_fraction": -0.1}, "outside 0..1"),
        ({"cloud_fraction": float("nan")}, "not a number"),
        ({"country": ""}, "country"),
    ],
)
def test_bad_inputs(changes, message):
    with pytest.raises(BadRequestError, match=message):
        inputs(**changes)


def test_all_fifteen_classes_accepted():
    assert len(LAND_COVER_CLASSES) == 15
    for name in LAND_COVER_CLASSES:
        assert f" of {name} in " in build_prompts(inputs(land_cover=name)).spatial


def test_prompt_command_prints_json(capsys):
    code = main(
        [
            "prompt",
            "--lat",
            "-1.5",
            "--lon",
            "36.8",
            "--month",
            "2021-03",
            "--land-cover",
            "Croplands",
            "--cloud",
            "0.8",
            "--temp",
            "21.5",
            "--precip",
            "3.2",
            "--rad",
            "19.9",
            "--country",
            "Kenya",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    metadata = printed.pop("diffusionsat_metadata")
    assert printed == {
        "spatial": "a very cloudy satellite image of Croplands in Kenya on March 2021.",
        "climate": "a very cloudy satellite image of Croplands in Kenya on March 2021."
        + CLIMATE_TAIL.format(t="22", p="3", r="20"),
    }
    # EcoMapper's create_captions.py: lon/360, lat/180, gsd 20/10, cloud, year/120, month/12, day 1/31,
    # (T+60)/120, P/120, R/40, each x 1000 (the inputs above: 10 m, day 1 of a YYYY-MM month)
    expected = [36.8 / 360, -1.5 / 180, 20 / 10, 0.8, 2021 / 120, 3 / 12, 1 / 31, 81.5 / 120, 3.2 / 120, 19.9 / 40]
    assert metadata == pytest.approx([1000 * v for v in expected])


def test_prompt_command_bad_input_is_one_line(capsys):
    code = main(
        [
            *("prompt", "--lat", "0", "--lon", "0", "--month", "2021-03"),
            *("--land-cover", "Croplands", "--temp", "20", "--country", "Ghana"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--precip, --rad missing" in err
