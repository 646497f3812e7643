"""ControlNet through the service layer: the control image must steer the output.

The tiny ControlNet here has non-zero control weights (from_transformer zero-initialises them, and a
zero ControlNet would pass any test while ignoring its input), so dropping the conditioning anywhere
between the request and the pipeline makes these tests fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.geo import Month, Point
from core.services import GenerationRequest, ModelSpec, generate, load_engine
from tests.support.gen_tiny_weights import save_tiny_controlnet

KENYA = Point(-1.5, 36.8)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> ModelSpec:
    return ModelSpec("tiny-random", controlnet=str(save_tiny_controlnet(tmp_path_factory.mktemp("cn") / "controlnet")))


@pytest.fixture(scope="module")
def engine(model):
    from core.config import Settings

    return load_engine(model, Settings.from_env())


def request(model: ModelSpec, **changes) -> GenerationRequest:
    fields = dict(
        point=KENYA,
        month=Month(2021, 3),
        land_cover="Croplands",
        observed_climate=ClimateValues(21.4, 3.2, 19.9),
        seed=9,
        num_inference_steps=2,
        size_px=64,
        country="Kenya",
        model=model,
    )
    fields.update(changes)
    return GenerationRequest(**fields)


def control(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_the_control_image_changes_the_output(model, engine, settings):
    one = generate(request(model, mode="controlnet", control_image=control(1)), settings, engine=engine)
    other = generate(request(model, mode="controlnet", control_image=control(2)), settings, engine=engine)
    again = generate(request(model, mode="controlnet", control_image=control(1)), settings, engine=engine)
    np.testing.assert_array_equal(one.image, again.image)  # same inputs, same pixels
    assert mean_difference(one.image, other.image) > 2.0  # a different control image, a different picture
    assert one.provenance.mode == "controlnet" and one.result.control_image is not None


def test_with_the_conditioning_switched_off_the_control_image_no_longer_matters(model, engine, settings):
    off = [
        generate(
            request(model, mode="controlnet", control_image=control(s), controlnet_conditioning_scale=0.0),
            settings,
            engine=engine,
        ).image
        for s in (1, 2)
    ]
    on = generate(request(model, mode="controlnet", control_image=control(1)), settings, engine=engine).image
    np.testing.assert_array_equal(off[0], off[1])
    assert mean_difference(on, off[0]) > 2.0


def test_a_real_earlier_month_conditions_the_image(model, engine, data_settings):
    sahara = dict(point=Point(24.8, -11.4), country="Mauritania", land_cover="Barren or Sparsely Vegetated")
    from_real = generate(
        request(model, month=Month(2020, 3), mode="controlnet", control_month=Month(2020, 2), **sahara),
        data_settings,
        engine=engine,
    )
    flat = np.full((64, 64, 3), 128, dtype=np.uint8)
    from_flat = generate(
        request(model, month=Month(2020, 3), mode="controlnet", control_image=flat, **sahara),
        data_settings,
        engine=engine,
    )
    assert from_real.provenance.control_month == Month(2020, 2)
    assert from_real.result.control_image.std() > 5  # the real scene, not a blank
    assert mean_difference(from_real.image, from_flat.image) > 2.0
