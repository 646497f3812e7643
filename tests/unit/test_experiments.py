"""The paper's experiments on the tiny model at a small size: prompts, fixed latents, figures, future captions."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from core.errors import BadRequestError
from core.experiments.extremes import (
    PAPER_CLIMATES,
    ExtremesRequest,
    extreme_prompts,
    grid_climates,
    render,
    run_extremes,
)
from core.experiments.future import future_prompts, read_future_csv, run_future
from core.models import ModelSpec, load_pipeline
from core.models.fixed_latents import initial_latents
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared


def test_extreme_prompts_are_the_original_experiments():
    short, long = extreme_prompts("Moscow, Russia", "Croplands", "July", -10, 0, 1)
    assert short == "a satellite image of Croplands in Moscow, Russia on July 2019."
    assert long == short + (
        " The average temperature over the last month was -10 C. with an average precipitation of 0 mm,"
        " and an average daily solar radiation of 1 W/m2."
    )
    dropped = extreme_prompts("Beijing, China", "Savannas", "January", 40, 50, 30, drop_month=True, drop_location=True)
    assert dropped[0] == "a satellite image of Savannas on 2019."
    words = extreme_prompts("Germany", "Grasslands", "March", 40, 50, 30, word_mode=True)[1]
    assert words.endswith(" The average temperature over the last month was Very Hot, with Heavy precipitation,"
                          " and Extreme daily solar radiation.")  # fmt: skip
    assert PAPER_CLIMATES == ((-10, 0, 1), (20, 20, 10), (40, 50, 30))
    assert grid_climates("diagonal") == PAPER_CLIMATES
    assert len(grid_climates("radiation")) == 9 and len(set(grid_climates("full"))) == 27
    with pytest.raises(BadRequestError):
        ExtremesRequest(out_dir=".", grid="diagonals")
    assert ExtremesRequest(out_dir=".").size_px == 1024 and ExtremesRequest(out_dir=".").seeds == (333, 666, 999)


@pytest.fixture
def tiny(settings):
    return load_pipeline(ModelSpec("tiny-random", device="cpu", dtype="float32"), settings)


@pytest.mark.slow
def test_extremes_run_uses_one_fixed_latent_per_seed_and_writes_the_figure(tiny, tmp_path):
    pipe = tiny.pipeline_for("text")
    request = ExtremesRequest(
        out_dir=tmp_path / "extremes",
        seeds=(333, 666),
        locations=("Moscow, Russia",),
        land_covers=("Croplands",),
        months=("July",),
        size_px=64,
        num_inference_steps=2,
        guidance_scale=1.0,
    )
    result = run_extremes(pipe, request)
    assert len(result.figures) == 2 and len(result.images) == 6
    folder = tmp_path / "extremes" / "333" / "with_numerical" / "with_month" / "with_location" / "Moscow, Russia"
    figure = Image.open(folder / "Croplands" / "July_experiment.png")
    assert figure.size == (2500, 1500)  # the original's 1 x 3 figure, figsize (25, 15) at 100 dpi
    record = json.loads((folder / "Croplands" / "July_experiment.json").read_text())
    assert [(c["temp_c"], c["precip_mm"], c["radiation"]) for c in record["cells"]] == list(PAPER_CLIMATES)
    # the fixed latents: regenerating a cell from the seed's latents gives the saved image exactly
    first = np.asarray(Image.open(result.images[0]))
    again = render(pipe, initial_latents(pipe, 333, 64), extreme_prompts("Moscow, Russia", "Croplands", "July",
                                                                         -10, 0, 1), request)  # fmt: skip
    assert np.array_equal(first, again)
    other_seed = np.asarray(Image.open(result.images[3]))  # seed 666, same climate
    assert not np.array_equal(first, other_seed)
    assert not np.array_equal(first, np.asarray(Image.open(result.images[1])))  # another climate, same noise


def _future_csv(tmp_path, example) -> tuple:
    folder = example / "2017-2018" / "1"
    path = tmp_path / "future.csv"
    columns = ["location_id", "date", "latitude", "longitude", "type", "location_address", "cloud_coverage",
               "average_temp", "average_prep", "average_rad", "img_path", "2050_temp", "2050_pr", "2050_rsds",
               "2075_temp", "2075_pr", "2075_rsds", "2100_temp", "2100_pr", "2100_rsds"]  # fmt: skip
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerow([1, "2017-07", 51.42, -119.56, "Evergreen Needleleaf Forests", "British Columbia, Canada",
                         0.0, 14.44, 0.76, 23.56, "1_2017-07.png", 15.9, 0.7, 23.9, 16.8, "", 24.1, 18.6, 0.61,
                         24.4])  # fmt: skip
    return path, folder.parent


def test_future_captions_come_from_the_csv_columns(tmp_path):
    example = require_shared(ECOMAPPER_EXAMPLE)
    path, root = _future_csv(tmp_path, example)
    rows = read_future_csv(path, root)
    row = rows[0]
    assert row.projected[2050] == (15.9, 0.7, 23.9)
    assert row.projected[2075] == (16.8, 0.76, 24.1)  # a missing projection falls back to the observed value
    assert row.image_path == root / "1" / "1_2017-07.png"
    short, long = future_prompts(row, 2100)
    assert short == "A satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2100."
    assert long == short + (
        " The average temperature over the last month was 19 C. with an average precipitation 1 mm,"
        " and an average daily solar radiation of 24 W/m2."
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("location_id,date\n1,2017-07\n")
    with pytest.raises(BadRequestError, match="lacks the column"):
        read_future_csv(bad)


@pytest.mark.slow
def test_future_run_with_the_controlnet_and_one_latent_per_location(tiny, tmp_path):
    example = require_shared(ECOMAPPER_EXAMPLE)
    path, root = _future_csv(tmp_path, example)
    rows = read_future_csv(path, root)
    result = run_future(
        tiny.pipeline_for("controlnet"), rows, tmp_path / "future", size_px=32, num_inference_steps=2,
        guidance_scale=1.0,
    )  # fmt: skip
    names = [p.name for p in result.images]
    assert names == ["1_2050-07.png", "1_2075-07.png", "1_2100-07.png"]
    record = json.loads(result.images[2].with_suffix(".json").read_text())
    assert record["projected"] == {"temp_c": 18.6, "precip_mm_day": 0.61, "solar_mj_m2_day": 24.4}
    assert "on July 2100." in record["prompt_short"] and record["control_image"].endswith("1_2017-07.png")
    images = [np.asarray(Image.open(p)) for p in result.images]
    assert not np.array_equal(images[0], images[2])  # the caption (year, climate) changes the image
