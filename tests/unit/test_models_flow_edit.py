"""Modes edit (FlowEdit) and invert on the tiny random SD3: the properties that hold on any weights."""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.generation.runs import generate_images
from core.models.flow_edit import EditOptions
from core.models.image_modes import vae_round_trip
from core.models.spec import ModelSpec
from tests.support.tiny_generation import tiny_generation_request

OBSERVED = ClimateValues(21.4, 3.2, 19.9)
HOTTER = Scenario.of_change(6.0, -70.0, 0.0)
SOURCE = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def edit_request(mode: str, **changes):
    fields = dict(climate=None, observed_climate=OBSERVED, control_image=SOURCE, model=ModelSpec("tiny-random"))
    return tiny_generation_request(mode=mode, **{**fields, **changes})


def diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int))


@pytest.fixture(scope="module")
def round_trip(tiny_engine):
    return vae_round_trip(tiny_engine.loaded.pipe, SOURCE)


def test_edit_under_todays_climate_is_img2img_at_strength_zero(tiny_engine, settings, round_trip):
    edited = generate_images(edit_request("edit", num_inference_steps=6), tiny_engine, settings)
    start = generate_images(edit_request("img2img", strength=0.0), tiny_engine, settings)
    np.testing.assert_array_equal(start.image, round_trip)
    assert diff(edited.image, start.image).max() <= 3
    # the source caption is the observed climate's; with no scenario both captions are the same
    assert edited.request.source_prompts() == edited.prompts


def test_a_scenario_moves_the_edit_and_the_seed_draws_the_noise(tiny_engine, settings, round_trip):
    moved = generate_images(edit_request("edit", scenario=HOTTER, num_inference_steps=6), tiny_engine, settings)
    assert moved.request.source_prompts() != moved.prompts and "was 27 C." in moved.prompts.climate
    assert diff(moved.image, round_trip).mean() > 2.0
    again = generate_images(edit_request("edit", scenario=HOTTER, num_inference_steps=6), tiny_engine, settings)
    np.testing.assert_array_equal(again.image, moved.image)
    other_seed = generate_images(
        edit_request("edit", scenario=HOTTER, num_inference_steps=6, seed=8), tiny_engine, settings
    )
    assert diff(other_seed.image, moved.image).mean() > 0.1
    # fewer edited steps (n_max) stay closer to the source
    light = EditOptions(n_max=1)
    lighter = generate_images(edit_request("edit", scenario=HOTTER, num_inference_steps=6, edit=light),
                              tiny_engine, settings)  # fmt: skip
    assert diff(lighter.image, round_trip).mean() < diff(moved.image, round_trip).mean()


def test_the_plain_sampling_tail_and_noise_averaging_change_the_result(tiny_engine, settings):
    base = edit_request("edit", scenario=HOTTER, num_inference_steps=4, edit=EditOptions(n_max=4))
    plain = generate_images(base, tiny_engine, settings).image
    tail = generate_images(base.replace(edit=EditOptions(n_max=4, n_min=2)), tiny_engine, settings).image
    averaged = generate_images(base.replace(edit=EditOptions(n_max=4, n_avg=3)), tiny_engine, settings).image
    assert diff(tail, plain).mean() > 0.5 and diff(averaged, plain).mean() > 0.1


def test_inversion_then_regeneration_with_the_same_caption_returns_the_source(tiny_engine, settings, round_trip):
    # stated tolerance: 50 Euler steps each way return within 1/255 on average, 8/255 at most (measured 0.54, 6)
    back = generate_images(edit_request("invert", num_inference_steps=50), tiny_engine, settings)
    assert diff(back.image, round_trip).mean() <= 1.0 and diff(back.image, round_trip).max() <= 8
    # the error is the Euler error of the schedule: fewer steps, larger
    coarse = generate_images(edit_request("invert", num_inference_steps=5), tiny_engine, settings)
    assert diff(coarse.image, round_trip).mean() > diff(back.image, round_trip).mean()
    # inverting is deterministic: the seed does not matter
    reseeded = generate_images(edit_request("invert", num_inference_steps=5, seed=99), tiny_engine, settings)
    np.testing.assert_array_equal(reseeded.image, coarse.image)
    moved = generate_images(edit_request("invert", num_inference_steps=5, scenario=HOTTER,
                                         edit=EditOptions(target_guidance=7.5)), tiny_engine, settings)  # fmt: skip
    assert diff(moved.image, coarse.image).mean() > 2.0


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        ("text", dict(n_max=3), "Edit options were given in mode text"),
        ("edit", dict(n_max=9), "do not fit 2 steps"),
        ("edit", dict(n_min=2, n_max=2), "n_min=2, n_max=2"),
        ("invert", dict(n_avg=2), "FlowEdit's (mode edit)"),
        ("edit", dict(target_guidance=40.0), "target guidance 40.0 is not 0..30"),
        ("edit", dict(n_avg=0), "n_avg=0 is not a whole number 1..500"),
    ],
)
def test_bad_edit_options_are_refused_with_the_fix(mode, options, message):
    with pytest.raises(BadRequestError) as err:
        edit_request(mode, edit=EditOptions(**options), control_image=None if mode == "text" else SOURCE)
    assert message in str(err.value)


def test_documented_defaults_resolve_per_mode():
    edit = EditOptions().resolved("edit", 50)
    assert (edit.n_max, edit.n_min, edit.n_avg, edit.source_guidance, edit.target_guidance) == (33, 0, 1, 3.5, 13.5)
    invert = EditOptions().resolved("invert", 28)
    assert (invert.n_max, invert.source_guidance, invert.target_guidance) == (28, 1.0, 1.0)


def test_peer_generators_refuse_edit_in_one_line(settings):
    from core.services.models import load_engine

    backend = load_engine(ModelSpec("tiny-diffusionsat"), settings)
    with pytest.raises(BadRequestError, match="cannot do mode 'edit'"):
        generate_images(edit_request("edit", model=ModelSpec("tiny-diffusionsat")), backend, settings)
