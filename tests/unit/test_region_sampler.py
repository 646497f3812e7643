"""SD3 over a region (tiny random SD3): one window is the stock pipeline bit for bit; the model and the VAE
only ever see tile-sized inputs; MetaEarth is deterministic; progress over tiles x steps; cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.errors import CancelledError
from core.generation.tiling import plan_windows
from core.models.engine import FrameJob
from core.models.region_sampler import RegionCanvas, run_region
from tests.support.tiny_generation import tiny_generation_request

TILE = 64


def canvas(height: int, width: int) -> RegionCanvas:
    return RegionCanvas(height, width, tuple(plan_windows(height, width, TILE)), TILE)


def jobs_for(region: RegionCanvas, seed: int = 7) -> list[FrameJob]:
    # a different prompt per tile, as a region's tiles have (their own land cover)
    covers = ("Croplands", "Grasslands", "Savannas", "Open Shrublands", "Urban and Built-up Lands", "Mixed Forests")
    return [
        FrameJob(tiny_generation_request(land_cover=covers[i % 6]).prompts(), seed) for i in range(len(region.windows))
    ]


@pytest.mark.parametrize("method", ["multidiffusion", "mixture", "metaearth"])
@pytest.mark.parametrize("guidance", [1.0, 7.5])
def test_one_window_covering_the_canvas_is_the_stock_pipeline_bit_for_bit(tiny_engine, method, guidance):
    job = FrameJob(tiny_generation_request().prompts(), 7)
    stock, _ = tiny_engine.run_frames([job], mode="text", size_px=TILE, num_inference_steps=2, guidance_scale=guidance)
    image, _ = run_region(
        tiny_engine, [job], canvas(TILE, TILE), method=method, mode="text", seed=7, num_inference_steps=2,
        guidance_scale=guidance,
    )  # fmt: skip
    assert image.dtype == np.uint8 and np.array_equal(image, stock[0])


def _record_input_sizes(engine):
    """Spatial sizes of every transformer, ControlNet and VAE-decoder input (forward pre-hooks on the modules)."""
    seen: dict[str, set] = {"transformer": set(), "decoder": set(), "controlnet": set()}
    loaded = engine.loaded
    modules = {"transformer": loaded.pipe.transformer, "decoder": loaded.pipe.vae.decoder}
    if loaded.controlnet_pipe is not None:
        modules["controlnet"] = loaded.controlnet_pipe.controlnet
    handles = [
        module.register_forward_pre_hook(
            lambda _m, args, kwargs, name=name: seen[name].add(
                tuple((args[0] if args else kwargs["hidden_states"]).shape[-2:])
            ),
            with_kwargs=True,
        )
        for name, module in modules.items()
    ]
    return seen, handles


@pytest.mark.slow
@pytest.mark.parametrize(("method", "mode"), [("metaearth", "text"), ("multidiffusion", "text"),
                                              ("multidiffusion", "controlnet"), ("mixture", "text")])  # fmt: skip
def test_the_model_is_only_called_at_tile_size(tiny_engine, method, mode):
    region = canvas(96, 128)
    jobs = jobs_for(region)
    if mode == "controlnet":
        rng = np.random.default_rng(1)
        jobs = [FrameJob(j.prompts, j.seed, rng.integers(0, 256, (TILE, TILE, 3), dtype=np.uint8)) for j in jobs]
    factor = tiny_engine.loaded.pipe.vae_scale_factor
    seen, handles = _record_input_sizes(tiny_engine)
    try:
        image, timings = run_region(
            tiny_engine, jobs, region, method=method, mode=mode, seed=3, num_inference_steps=2, guidance_scale=7.5
        )
    finally:
        for handle in handles:
            handle.remove()
    assert image.shape == (96, 128, 3)
    assert seen["transformer"] == {(TILE // factor, TILE // factor)}
    assert seen["decoder"] == {(TILE // factor, TILE // factor)}
    assert seen["controlnet"] == ({(TILE // factor, TILE // factor)} if mode == "controlnet" else set())
    assert timings["tile_calls"] == 6 * 2


@pytest.mark.slow
def test_metaearth_is_deterministic_and_its_tiles_are_the_stock_call_of_their_noise(tiny_engine):
    region = canvas(96, 128)
    first, _ = run_region(tiny_engine, jobs_for(region), region, method="metaearth", mode="text", seed=5,
                          num_inference_steps=2, guidance_scale=7.5)  # fmt: skip
    again, _ = run_region(tiny_engine, jobs_for(region), region, method="metaearth", mode="text", seed=5,
                          num_inference_steps=2, guidance_scale=7.5)  # fmt: skip
    other, _ = run_region(tiny_engine, jobs_for(region), region, method="metaearth", mode="text", seed=6,
                          num_inference_steps=2, guidance_scale=7.5)  # fmt: skip
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    # the top-left tile's own corner is kept as the stock pipeline made it from its crop of the canvas noise
    from core.models.region_sampler import shared_noise

    job = jobs_for(region)[0]
    noise = shared_noise(tiny_engine, 5, 96, 128, tiny_engine.embeddings(job.prompts)[0].dtype)
    factor = tiny_engine.loaded.pipe.vae_scale_factor
    tile_noise = noise[..., : TILE // factor, : TILE // factor].clone()
    alone, _ = tiny_engine.run_frames([FrameJob(job.prompts, 5, latents=tile_noise)], mode="text", size_px=TILE,
                                      num_inference_steps=2, guidance_scale=7.5)  # fmt: skip
    assert np.array_equal(first[:48, :48], alone[0][:48, :48])


@pytest.mark.parametrize("method", ["metaearth", "multidiffusion"])
def test_progress_counts_tiles_times_steps_and_cancel_stops(tiny_engine, method):
    region = canvas(64, 96)  # 2 windows
    calls = []
    run_region(tiny_engine, jobs_for(region), region, method=method, mode="text", seed=1, num_inference_steps=3,
               guidance_scale=1.0, progress=lambda done, total, _msg: calls.append((done, total)))  # fmt: skip
    assert calls[-1] == (2 * 3, 2 * 3) and all(total == 6 for _, total in calls)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        run_region(tiny_engine, jobs_for(region), region, method=method, mode="text", seed=1, num_inference_steps=3,
                   guidance_scale=1.0, cancel=cancel)  # fmt: skip


def test_mixture_weighs_window_centres_more_than_multidiffusion_and_is_deterministic(tiny_engine):
    """Same windows, noise and velocities: only the weights differ (Gaussian vs equal), so the two joins
    differ where windows overlap; the same seed gives the same mixture."""
    region = canvas(TILE, 2 * TILE)  # three windows across: two overlaps
    jobs = jobs_for(region)
    common = dict(mode="text", seed=7, num_inference_steps=2, guidance_scale=1.0)
    mixture, _ = run_region(tiny_engine, jobs, region, method="mixture", **common)
    again, _ = run_region(tiny_engine, jobs, region, method="mixture", **common)
    equal, _ = run_region(tiny_engine, jobs, region, method="multidiffusion", **common)
    assert mixture.shape == equal.shape == (TILE, 2 * TILE, 3)
    assert np.array_equal(mixture, again)
    assert not np.array_equal(mixture, equal)

