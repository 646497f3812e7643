"""Ensembles (N seeds of today and of the scenario) and the RGB greenness index."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.generation.ensemble import change_statistics
from core.generation.greenness import excess_green, greenness_summary
from core.models.spec import ModelSpec
from core.services.ensemble import ensemble_requests, run_ensemble, write_ensemble
from tests.support.tiny_generation import tiny_generation_request

OBSERVED = ClimateValues(21.4, 3.2, 19.9)
HOTTER = Scenario.of_change(6.0, -70.0, 0.0)
REAL = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def request(**changes):
    fields = dict(climate=None, observed_climate=OBSERVED, model=ModelSpec("tiny-random"), num_inference_steps=3)
    return tiny_generation_request(**{**fields, **changes})


def test_change_statistics_by_hand():
    flat = np.full((2, 2, 3), 100, np.uint8)
    brighter = [flat + 10, flat + 20, flat + 30, flat + 40, flat + 50]
    stats = change_statistics([flat] * 5, brighter)
    assert stats.as_dict() == {
        "samples": 5,
        "mean_abs_change": 30.0,
        "mean_spread": round(float(np.std([10, 20, 30, 40, 50])), 4),
        "mean_spread_scenario": round(float(np.std([10, 20, 30, 40, 50])), 4),
        "agreement": 1.0,
    }
    # 3 of 5 brighter, 2 darker on one pixel: 60 % < 80 %, that pixel disagrees
    mixed = [image.copy() for image in brighter]
    mixed[0][0, 0] = mixed[1][0, 0] = 90
    assert change_statistics([flat] * 5, mixed).as_dict()["agreement"] == 0.75
    # 4 of 5 is exactly 80 %: agrees
    mixed[1][0, 0] = 150
    assert change_statistics([flat] * 5, mixed).as_dict()["agreement"] == 1.0


def test_excess_green_values_and_caveat():
    assert excess_green(np.array([[[0, 255, 0]]], np.uint8)) == 2.0
    assert excess_green(np.array([[[90, 90, 90], [0, 0, 0]]], np.uint8)) == 0.0  # black (no data) left out
    assert excess_green(np.array([[[200, 100, 100]]], np.uint8)) == pytest.approx(2 * 0.25 - 0.5 - 0.25)
    summary = greenness_summary(np.full((2, 2, 3), 90, np.uint8), np.array([[[0, 255, 0]]], np.uint8))
    assert summary["change_scenario_minus_today"] == 2.0 and summary["real"] is None
    assert summary["index"] == "ExG" and "not NDVI" in summary["caveat"]


def test_samples_are_the_one_request_with_consecutive_seeds():
    base = request(seed=40)
    samples = ensemble_requests(base, 3)
    assert [r.seed for r in samples] == [40, 41, 42] and samples[1] == base.replace(seed=41)
    for bad in (1, 65, 2.5, True):
        with pytest.raises(BadRequestError, match="samples is not a whole number from 2 to 64"):
            ensemble_requests(base, bad)


def test_unchanged_scenario_gives_zero_change_and_spread(tiny_engine, settings, tmp_path):
    text = run_ensemble(request(), 3, settings, engine=tiny_engine, real_image=REAL)
    stats = text.statistics.as_dict()
    assert stats["mean_abs_change"] == 0.0 and stats["mean_spread"] == 0.0 and stats["agreement"] == 1.0
    assert stats["mean_spread_scenario"] > 5.0  # text-to-image: the seed alone changes the picture
    assert text.seeds == [7, 8, 9] and text.greenness["real"] == round(excess_green(REAL), 4)
    # edit: today is the real image itself, for every seed
    source = dict(control_image=REAL, mode="edit")
    edit = run_ensemble(request(**source), 3, settings, engine=tiny_engine, real_image=REAL)
    assert edit.statistics.as_dict()["mean_spread_scenario"] <= 0.5
    paths = write_ensemble(text, tmp_path / "kenya.png")
    assert sorted(p.name for p in paths.values()) == ["kenya-change.json", "kenya-change.png", "kenya-spread.png"]
    saved = json.loads(paths["change_json"].read_text())
    assert saved["samples"] == 3 and saved["mean_spread"] == 0.0 and saved["greenness"]["index"] == "ExG"
    with Image.open(paths["change_png"]) as img:
        assert img.format == "PNG" and img.size[0] > 300  # a figure with a colour bar, not the raw map


def test_a_scenario_changes_the_samples_and_the_maps_say_so(tiny_engine, settings, tmp_path):
    # text-to-image on the tiny random model: the caption moves pixels, a little
    text = run_ensemble(request(scenario=HOTTER), 2, settings, engine=tiny_engine, real_image=REAL)
    assert 0.0 < text.statistics.as_dict()["mean_abs_change"] < 1.0
    result = run_ensemble(request(scenario=HOTTER, mode="edit", control_image=REAL), 3, settings, engine=tiny_engine,
                          real_image=REAL)  # fmt: skip
    stats = result.statistics.as_dict()
    assert stats["mean_abs_change"] > 5.0 and stats["mean_spread"] > 2.0 and 0.0 <= stats["agreement"] <= 1.0
    assert [r.request.scenario for r in result.today] == [Scenario.today()] * 3
    assert [r.request.seed for r in result.today] == [r.request.seed for r in result.scenario]
    assert "samples agree" in result.agreement_sentence and "+6" in result.agreement_sentence
    paths = write_ensemble(result, tmp_path / "hot.png")
    with Image.open(paths["change_png"]) as img:
        colours = np.asarray(img.convert("RGB")).reshape(-1, 3)
    # diverging colours: both reds and blues appear where pixels got brighter and darker
    reddish = (colours[:, 0] > colours[:, 2] + 60).any()
    bluish = (colours[:, 2] > colours[:, 0] + 60).any()
    assert reddish and bluish
