"""Generation with the tiny random SD3: sizes, determinism, ControlNet, series, grids, progress, bad input."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, CancelledError
from core.generation.compositions import GridRequest, TimelapseRequest
from core.generation.request import GenerationRequest
from core.generation.runs import generate_images, generate_scenario_grid, generate_time_series
from core.geo import Month, Point, month_range
from core.models.engine import Engine
from tests.support.tiny_generation import tiny_generation_request


def request(**changes) -> GenerationRequest:
    return tiny_generation_request(**{"cloud_fraction": 0.1, **changes})


def monthly_climates(months):
    return tuple((m, ClimateValues(15.0 + m.month, 1.0 + m.month / 2, 12.0 + m.month / 3)) for m in months)


def count_encoder_calls(tiny_engine: Engine) -> tuple[dict[str, int], list]:
    counts = {"text_encoder": 0, "text_encoder_2": 0, "text_encoder_3": 0}
    handles = []
    for name in counts:

        def hook(_module, _inputs, _output, name=name):
            counts[name] += 1

        handles.append(getattr(tiny_engine.loaded.pipe, name).register_forward_hook(hook))
    return counts, handles


@pytest.mark.parametrize("size_px", [64, 512])
def test_text_to_image_size(tiny_engine, settings, size_px):
    result = generate_images(request(size_px=size_px), tiny_engine, settings)
    assert [img.shape for img in result.images] == [(size_px, size_px, 3)]
    assert result.image.dtype == np.uint8 and result.image.std() > 0
    assert result.prompts.spatial == "a satellite image of Croplands in Nairobi, Kenya on March 2021."
    assert result.prompts.climate.endswith(
        "was 21 C. with an average precipitation 3 mm, and an average daily solar radiation of 20 W/m2."
    )
    assert result.model_id == "tiny-random" and any("noise" in w for w in result.warnings)


@pytest.mark.slow
def test_the_vae_is_tiled_only_when_the_decode_would_not_fit(tiny_engine, settings):
    from core.models.memory import vae_decode_bytes

    whole = vae_decode_bytes(tiny_engine.loaded.pipe.vae, 1024, 1, tiny_engine.loaded.dtype)
    try:
        tiny_engine.memory_budget_bytes = whole // 2  # too little to decode 1024 px whole
        result = generate_images(request(size_px=1024, num_inference_steps=1), tiny_engine, settings)
        assert result.image.shape == (1024, 1024, 3) and tiny_engine.loaded.pipe.vae.use_tiling
        tiny_engine.memory_budget_bytes = whole * 10  # plenty: decode whole, even at 1024 px
        generate_images(request(size_px=1024, num_inference_steps=1), tiny_engine, settings)
        assert not tiny_engine.loaded.pipe.vae.use_tiling
    finally:
        tiny_engine.memory_budget_bytes = None


def test_same_seed_same_pixels_other_seed_differs(tiny_engine, settings):
    first = generate_images(request(seed=11), tiny_engine, settings).image
    np.testing.assert_array_equal(first, generate_images(request(seed=11), tiny_engine, settings).image)
    assert not np.array_equal(first, generate_images(request(seed=12), tiny_engine, settings).image)


def test_cached_embeddings_give_the_pipeline_own_result(tiny_engine, settings):
    import torch

    result = generate_images(request(seed=3), tiny_engine, settings)
    pipe = tiny_engine.loaded.pipe
    direct = pipe(
        prompt=result.prompts.spatial,
        prompt_2=result.prompts.spatial,
        prompt_3=result.prompts.climate,
        height=64,
        width=64,
        num_inference_steps=2,
        guidance_scale=7.5,
        generator=torch.Generator().manual_seed(3),
        output_type="np",
        max_sequence_length=256,
    ).images[0]
    np.testing.assert_array_equal((np.clip(direct, 0, 1) * 255).round().astype(np.uint8), result.image)


def test_climate_changes_the_image(tiny_engine, settings):
    cool = generate_images(request(climate=ClimateValues(5, 3, 20)), tiny_engine, settings).image
    hot = generate_images(request(climate=ClimateValues(35, 3, 20)), tiny_engine, settings).image
    assert not np.array_equal(cool, hot)


def test_controlnet_from_user_image(tiny_engine, settings):
    rng = np.random.default_rng(0)
    control = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    a = generate_images(request(mode="controlnet", control_image=control), tiny_engine, settings)
    b = generate_images(request(mode="controlnet", control_image=255 - control), tiny_engine, settings)
    assert a.image.shape == (64, 64, 3) and a.control_image is control
    # the tiny ControlNet is zero-initialised (as from_transformer makes it): same as text mode
    text = generate_images(request(), tiny_engine, settings)
    np.testing.assert_array_equal(a.image, text.image)
    np.testing.assert_array_equal(a.image, b.image)


def test_controlnet_from_a_real_earlier_month(tiny_engine, data_settings):
    from core.sources.imagery import fetch_scene

    sahara = Point(24.8, -11.4)
    req = request(
        point=sahara,
        month=Month(2020, 3),
        land_cover="Barren or Sparsely Vegetated",
        mode="controlnet",
        control_month=Month(2020, 2),
        country="Morocco",
        state=None,
    )
    result = generate_images(req, tiny_engine, data_settings)
    assert result.image.shape == (64, 64, 3)
    scene = fetch_scene(sahara, Month(2020, 2), data_settings)  # from the cache now
    from PIL import Image

    expected = np.asarray(Image.fromarray(scene.image).resize((64, 64), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(result.control_image, expected)
    assert result.model_info["control"]["scene_id"] == scene.scene_id
    # the resolved request carries the control image: it regenerates without fetching
    again = generate_images(result.request, tiny_engine, Settings.from_env().with_(offline=True))
    np.testing.assert_array_equal(again.image, result.image)


def test_twelve_month_series_encodes_each_prompt_once(tiny_engine, settings):
    months = month_range("2020-01", "2020-12")
    series = TimelapseRequest(base=request(seed=5), start=months[0], end=months[-1], climates=monthly_climates(months))
    tiny_engine.clear_cache()
    counts, handles = count_encoder_calls(tiny_engine)
    try:
        result = generate_time_series(series, tiny_engine, settings)
        assert len(result.frames) == 12 and [f.request.month for f in result.frames] == months
        assert len({f.prompts.climate for f in result.frames}) == 12
        # 12 distinct prompts + the empty negative prompt (guidance 7.5), each through each encoder once
        assert counts == {"text_encoder": 13, "text_encoder_2": 13, "text_encoder_3": 13}
        assert result.encode_calls == 13
        generate_time_series(series, tiny_engine, settings)
        assert counts == {"text_encoder": 13, "text_encoder_2": 13, "text_encoder_3": 13}
    finally:
        for handle in handles:
            handle.remove()
    # frames share the seed and equal single-image generations of the same month: exactly with one
    # frame per call; batched, CPU kernels may round the last float bit differently (one 8-bit level)
    single = generate_images(result.frames[4].request, tiny_engine, settings)
    unbatched = generate_time_series(dataclasses.replace(series, batch_size=1), tiny_engine, settings)
    np.testing.assert_array_equal(single.image, unbatched.frames[4].image)
    difference = np.abs(single.image.astype(int) - result.frames[4].image.astype(int))
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3


def test_series_with_modified_climate_and_batches(tiny_engine, settings):
    months = month_range("2021-01", "2021-04")
    climates = monthly_climates(months)
    series = TimelapseRequest(
        base=request(), start=months[0], end=months[-1], climates=climates, scenario=Scenario.of_change(2.0, 50.0)
    )
    result = generate_time_series(series, tiny_engine, settings)
    observed = dict(climates)
    assert [c.temp_c for c in result.climates] == [observed[m].temp_c + 2.0 for m in months]
    assert [c.precip_mm_day for c in result.climates] == [observed[m].precip_mm_day * 1.5 for m in months]
    batched = generate_time_series(TimelapseRequest(**{**series.__dict__, "batch_size": 4}), tiny_engine, settings)
    for a, b in zip(result.images, batched.images, strict=True):
        # batched matrix products round differently in the last bits; at most one 8-bit level
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_series_with_observed_climate_from_power(tiny_engine, data_settings):
    from core.sources.climate import climate_for_month, fetch_climate

    point = Point(24.8, -11.4)
    series = TimelapseRequest(
        base=request(point=point, country="Morocco", state=None, land_cover="Barren or Sparsely Vegetated"),
        start="2020-01",
        end="2020-03",
    )
    result = generate_time_series(series, tiny_engine, data_settings)
    dataset = fetch_climate(point, Month(2020, 1), Month(2020, 3), data_settings)
    assert result.climates == [climate_for_month(dataset, m) for m in result.months]


def test_controlnet_chain(tiny_engine, settings):
    control = np.full((64, 64, 3), 90, dtype=np.uint8)
    months = month_range("2021-01", "2021-03")
    series = TimelapseRequest(
        base=request(mode="controlnet", control_image=control),
        start=months[0],
        end=months[-1],
        climates=monthly_climates(months),
        chain="controlnet",
    )
    result = generate_time_series(series, tiny_engine, settings)
    assert result.frames[0].control_image is control
    np.testing.assert_array_equal(result.frames[1].control_image, result.frames[0].image)
    np.testing.assert_array_equal(result.frames[2].control_image, result.frames[1].image)


def test_scenario_grid(tiny_engine, settings):
    grid = GridRequest(base=request(), temp_deltas_c=(-2, 0, 2), precip_changes_pct=(-50, 0))
    result = generate_scenario_grid(grid, tiny_engine, settings)
    assert [len(row) for row in result.cells] == [2, 2, 2]
    cell = result.cells[2][0]
    assert cell.request.climate == ClimateValues(23.4, 1.6, 19.9)
    assert "was 23 C. with an average precipitation 2 mm" in cell.prompts.climate
    assert len({c.prompts.climate for row in result.cells for c in row}) == 6
    assert all(c.seed == 7 for row in result.cells for c in row)


def test_progress_and_cancel(tiny_engine, settings):
    reports = []
    generate_images(request(num_inference_steps=3), tiny_engine, settings, progress=lambda *a: reports.append(a))
    assert [(done, total) for done, total, _ in reports] == [(1, 3), (2, 3), (3, 3)]
    assert reports[-1][2] == "frame 1 of 1: step 3/3"
    cancel = threading.Event()

    def stop_after_first(done, total, message):
        cancel.set()

    with pytest.raises(CancelledError, match="cancelled at step 1 of 3"):
        generate_images(request(num_inference_steps=3), tiny_engine, settings, progress=stop_after_first, cancel=cancel)
    months = month_range("2021-01", "2021-03")
    with pytest.raises(CancelledError, match="before frame 1"):
        generate_time_series(
            TimelapseRequest(base=request(), start=months[0], end=months[-1], climates=monthly_climates(months)),
            tiny_engine,
            settings,
            cancel=cancel,
        )


@pytest.mark.slow
def test_place_names_looked_up_when_no_country(tiny_engine, settings):
    result = generate_images(request(country="", state=None), tiny_engine, settings)
    assert result.request.country == "Kenya"
    assert " in Kenya " in result.prompts.spatial or ", Kenya " in result.prompts.spatial


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"size_px": 500}, "not a multiple of 16"),
        ({"size_px": 2048}, "between 64 and 1024"),
        ({"num_inference_steps": 0}, "number of steps 0"),
        ({"seed": -1}, "seed -1"),
        ({"guidance_scale": float("nan")}, "guidance scale nan"),
        ({"land_cover": "Jungle"}, "Unknown land cover 'Jungle'"),
        ({"cloud_fraction": 1.5}, "cloud fraction 1.5"),
        ({"mode": "controlnet"}, "needs a control image or a control month"),
        ({"mode": "sketch"}, "Unknown mode"),
        ({"control_month": Month(2021, 2)}, "text-to-image mode"),
        ({"mode": "controlnet", "control_month": Month(2021, 5)}, "after the month to generate"),
        ({"mode": "controlnet", "control_image": np.zeros((32, 32, 3), np.uint8)}, "32 x 32 px"),
        ({"mode": "controlnet", "control_image": np.zeros((64, 64, 4), np.uint8)}, "4-channel"),
        ({"mode": "controlnet", "control_image": np.zeros((64, 64), np.uint8)}, "grayscale"),
        ({"mode": "controlnet", "control_image": np.zeros((64, 64, 3), np.float32)}, "not 8-bit"),
    ],
)
def test_bad_requests(changes, message):
    with pytest.raises(BadRequestError, match=message):
        request(**changes)


def test_nan_climate_is_refused():
    with pytest.raises(BadRequestError, match="temperature value nan is missing or not a number"):
        request(climate=ClimateValues(float("nan"), 1.0, 10.0))
    with pytest.raises(BadRequestError, match="not a ClimateValues"):
        request(climate={"temp_c": 20})


def test_bad_series_and_grid():
    with pytest.raises(BadRequestError, match="No climate given for 2021-02"):
        TimelapseRequest(base=request(), start="2021-01", end="2021-02", climates=monthly_climates([Month(2021, 1)]))
    with pytest.raises(BadRequestError, match="Unknown chain"):
        TimelapseRequest(base=request(), start="2021-01", end="2021-02", chain="sideways")
    with pytest.raises(BadRequestError, match="needs the month's climate"):
        GridRequest(base=request(climate=None))
    with pytest.raises(BadRequestError, match="precipitation change -200"):
        GridRequest(base=request(), precip_changes_pct=(-200.0,))


def test_concurrent_requests_on_one_engine_match_sequential(tiny_engine, settings):
    from concurrent.futures import ThreadPoolExecutor

    requests = [request(seed=s, month=Month(2021, 1 + s)) for s in range(3)]
    sequential = [generate_images(r, tiny_engine, settings).image for r in requests]
    with ThreadPoolExecutor(max_workers=3) as pool:
        concurrent = list(pool.map(lambda r: generate_images(r, tiny_engine, settings).image, requests))
    for a, b in zip(sequential, concurrent, strict=True):
        np.testing.assert_array_equal(a, b)
