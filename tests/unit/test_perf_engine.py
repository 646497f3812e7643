"""The engine's batching, control latents, memory planning and compile, on the tiny random SD3."""

from __future__ import annotations

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.config import Settings
from core.generation.compositions import GridRequest, TimelapseRequest
from core.generation.prompts import Prompts
from core.generation.request import GenerationRequest
from core.generation.runs import generate_scenario_grid, generate_time_series
from core.geo import Point, month_range
from core.models import ModelSpec
from core.models.engine import Engine, FrameJob, known_control_latents
from core.models.memory import MAX_AUTO_BATCH, auto_batch_size, denoise_bytes_per_image, vae_decode_bytes

KENYA = Point(-1.5, 36.8)
MONTHS = month_range("2021-01", "2021-12")
CLIMATES = tuple((m, ClimateValues(15.0 + m.month, 1.0 + m.month / 2, 12.0 + m.month / 3)) for m in MONTHS)


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The tiny model with a ControlNet that really responds to its control image.

    tiny-random's ControlNet is zero-initialised (as `from_transformer` makes it), so its output
    would not depend on the control latents at all; random output layers make it depend on them.
    """
    import torch

    engine = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    controlnet = engine.loaded.controlnet_pipe.controlnet
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for block in controlnet.controlnet_blocks:
            block.weight.copy_(torch.randn(block.weight.shape, generator=generator) * 0.5)
        if hasattr(controlnet.pos_embed_input, "proj"):
            layer = controlnet.pos_embed_input.proj
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * 0.5)
    return engine


def base_request(**changes) -> GenerationRequest:
    values = dict(
        point=KENYA,
        month=MONTHS[0],
        land_cover="Croplands",
        seed=5,
        num_inference_steps=2,
        size_px=64,
        state="Nairobi",
        country="Kenya",
    )
    values.update(changes)
    return GenerationRequest(**values)


def control_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


class ModuleCalls:
    """Counts forward calls of a module and the batch sizes it saw (a real forward hook)."""

    def __init__(self, module) -> None:
        self.batches: list[int] = []
        self._handle = module.register_forward_hook(self._seen)

    def _seen(self, _module, _inputs, output) -> None:
        self.batches.append(len(output[0] if isinstance(output, tuple) else output))

    def __enter__(self) -> ModuleCalls:
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()


def assert_same_frames(single: list[np.ndarray], batched: list[np.ndarray]) -> None:
    """Per frame: equal up to float rounding of batched kernels (CPU convolutions and 2-D matrix
    products are not batch-invariant: ~1e-6 apart, one 8-bit level at a handful of pixels)."""
    assert len(single) == len(batched)
    differing = 0
    for a, b in zip(single, batched, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == np.uint8
        assert int(np.abs(a.astype(int) - b.astype(int)).max()) <= 1
        differing += int((a != b).sum())
    assert differing <= 1e-3 * sum(a.size for a in single)


@pytest.mark.parametrize("mode", ["text", "controlnet"])
def test_a_batched_series_gives_each_frame_of_the_unbatched_one_in_fewer_calls(engine, mode):
    changes = {"mode": "controlnet", "control_image": control_image()} if mode == "controlnet" else {}
    series = TimelapseRequest(
        base=base_request(**changes), start=MONTHS[0], end=MONTHS[-1], climates=CLIMATES, batch_size=1
    )
    transformer = engine.loaded.pipe.transformer
    with ModuleCalls(transformer) as one_by_one:
        single = generate_time_series(series, engine, Settings.from_env())
    with ModuleCalls(transformer) as together:
        batched = generate_time_series(
            TimelapseRequest(**{**series.__dict__, "batch_size": 12}), engine, Settings.from_env()
        )
    # 12 frames x 2 steps, one image (two with guidance) per call vs the 12 frames in one call per step
    assert one_by_one.batches == [2] * 24
    assert together.batches == [24, 24]
    assert_same_frames(single.images, batched.images)
    assert len({frame.tobytes() for frame in batched.images}) == 12  # each month its own image


def test_a_series_encodes_its_control_image_once(engine):
    encoder = engine.loaded.pipe.vae.encoder
    series = TimelapseRequest(
        base=base_request(mode="controlnet", control_image=control_image()),
        start=MONTHS[0],
        end=MONTHS[-1],
        climates=CLIMATES,
        batch_size=4,
    )
    with ModuleCalls(encoder) as calls:
        result = generate_time_series(series, engine, Settings.from_env())
    assert len(result.frames) == 12 and calls.batches == [1]
    # three cells with their own control images (as evaluation batches them): one encode each
    jobs = [FrameJob(Prompts("a satellite image", "warm"), 5, control_image(seed)) for seed in range(3)]
    with ModuleCalls(encoder) as calls:
        engine.run_frames(jobs, mode="controlnet", size_px=64, num_inference_steps=1, guidance_scale=7.5, batch_size=3)
    assert calls.batches == [1, 1, 1]


def test_the_control_latents_are_those_diffusers_would_compute(engine):
    """One frame: the engine's image equals the bare diffusers pipeline's given the control image,
    when the posterior draw uses the same seed (diffusers draws it from the global generator).

    Without guidance: with it, diffusers encodes the control image once per branch and draws two
    different posterior samples; the engine gives both branches the same latents.
    """
    import torch
    from PIL import Image

    control = control_image(3)
    job = FrameJob(Prompts("a satellite image of Croplands", "The average temperature was 21 C."), 11, control)
    (ours,), _ = engine.run_frames([job], mode="controlnet", size_px=64, num_inference_steps=2, guidance_scale=1.0)
    pipe = engine.loaded.controlnet_pipe
    embeds, pooled = engine.embeddings(job.prompts)
    torch.manual_seed(11)  # the pipeline's posterior sample comes from the global generator
    with torch.inference_mode():
        direct = pipe(
            prompt_embeds=embeds,
            pooled_prompt_embeds=pooled,
            control_image=Image.fromarray(control),
            height=64,
            width=64,
            num_inference_steps=2,
            guidance_scale=1.0,
            generator=torch.Generator().manual_seed(11),
            output_type="np",
        ).images[0]
    np.testing.assert_array_equal((np.clip(direct, 0, 1) * 255).round().astype(np.uint8), ours)
    other, _ = engine.run_frames(
        [FrameJob(job.prompts, 11, 255 - control)], mode="controlnet", size_px=64, num_inference_steps=2,
        guidance_scale=1.0,
    )  # fmt: skip
    assert not np.array_equal(other[0], ours)  # the control image matters to this ControlNet


def test_known_control_latents_leave_the_pipeline_as_it_was(engine):
    import torch

    pipe = engine.loaded.controlnet_pipe
    vae, prepare = pipe.vae, pipe.prepare_image
    with known_control_latents(pipe, torch.zeros(1, 4, 8, 8)):
        assert pipe.vae is not vae and pipe.vae.config is vae.config
    assert pipe.vae is vae and pipe.prepare_image == prepare and "prepare_image" not in pipe.__dict__


def test_a_controlnet_grid_shares_one_encode_and_batches(engine):
    grid = GridRequest(
        base=base_request(mode="controlnet", control_image=control_image(), climate=CLIMATES[0][1]),
        temp_deltas_c=(0.0, 2.0),
        precip_changes_pct=(0.0, 50.0),
        batch_size=4,
    )
    with ModuleCalls(engine.loaded.pipe.vae.encoder) as encodes, ModuleCalls(engine.loaded.pipe.transformer) as steps:
        result = generate_scenario_grid(grid, engine, Settings.from_env())
    assert [len(row) for row in result.cells] == [2, 2]
    assert encodes.batches == [1] and steps.batches == [8, 8]


def test_the_batch_size_follows_the_memory(engine):
    loaded = engine.loaded
    per_image = denoise_bytes_per_image(loaded.pipe.transformer, 512, loaded.dtype, True) + vae_decode_bytes(
        loaded.pipe.vae, 512, 1, loaded.dtype
    )
    assert auto_batch_size(loaded, 512, budget_bytes=per_image) == 1  # 60% of one image's need: still 1
    assert auto_batch_size(loaded, 512, budget_bytes=4 * per_image) == 2
    assert auto_batch_size(loaded, 512, budget_bytes=1000 * per_image) == MAX_AUTO_BATCH
    # twice the side, four times the pixels: fewer frames fit the same memory
    assert auto_batch_size(loaded, 1024, budget_bytes=8 * per_image) < auto_batch_size(
        loaded, 512, budget_bytes=8 * per_image
    )
    # automatic batching in the engine: 3 frames in one call when memory allows
    engine.memory_budget_bytes = 1000 * per_image
    try:
        jobs = [FrameJob(Prompts("a satellite image", f"month {m}"), 1) for m in range(3)]
        with ModuleCalls(loaded.pipe.transformer) as calls:
            images, _ = engine.run_frames(
                jobs, mode="text", size_px=64, num_inference_steps=1, guidance_scale=7.5, batch_size=None
            )
        assert len(images) == 3 and calls.batches == [6]
    finally:
        engine.memory_budget_bytes = None


@pytest.mark.slow  # compiles the tiny transformer and ControlNet with inductor (tens of seconds on a CPU)
def test_compile_gives_the_same_images_within_tolerance():
    compiled = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    jobs = [FrameJob(Prompts("a satellite image of Croplands", f"The temperature was {t} C."), 3) for t in (5, 25)]
    kwargs = dict(mode="text", size_px=64, num_inference_steps=2, guidance_scale=7.5, batch_size=2)
    eager, eager_timings = compiled.run_frames(jobs, **kwargs)
    compiled.compile()
    first, first_timings = compiled.run_frames(jobs, **kwargs)
    again, again_timings = compiled.run_frames(jobs, **kwargs)
    assert "compile_warmup_s" not in eager_timings and "compile_warmup_s" not in again_timings
    assert first_timings["compile_warmup_s"] > 0
    assert type(compiled.loaded.pipe.transformer).__name__ == "OptimizedModule"
    for a, b, c in zip(eager, first, again, strict=True):
        # fused QKV and inductor's kernels round differently: within two 8-bit levels
        assert int(np.abs(a.astype(int) - b.astype(int)).max()) <= 2
        np.testing.assert_array_equal(b, c)


def test_a_unit_range_controlnet_gets_unit_range_control_latents_and_keeps_its_hook():
    """A ControlNet of the original scripts ([0, 1] control images) must not get [-1, 1] latents
    from the engine's precomputed control path, and its prepare_image must survive a run."""
    import torch
    from PIL import Image

    from core.models.original_formats import install_control_range

    engine = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    pipe = engine.loaded.controlnet_pipe
    vae = pipe.vae
    image = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    minus_one_one = engine._control_latents(vae, [image], [7], 64)
    handle = install_control_range(pipe, "0-1")
    try:
        wrapper = pipe.prepare_image
        unit = engine._control_latents(vae, [image], [7], 64)
        pixels = (pipe.image_processor.preprocess(Image.fromarray(image), height=64, width=64) + 1.0) / 2.0
        expected = vae.encode(pixels).latent_dist.sample(generator=torch.Generator().manual_seed(7))
        torch.testing.assert_close(unit, expected)
        assert not torch.allclose(unit, minus_one_one)
        with known_control_latents(pipe, unit):
            assert pipe.prepare_image is not wrapper
        assert pipe.prepare_image is wrapper
    finally:
        handle.remove()


def test_a_batch_decodes_frame_by_frame_and_a_single_frame_whole(engine):
    """Batched frames are never decoded all at once (measured slower per frame than one by one)."""
    jobs = [FrameJob(Prompts("a satellite image", f"month {m}"), 1) for m in range(3)]
    run = dict(mode="text", size_px=64, num_inference_steps=1, guidance_scale=7.5)
    vae = engine.loaded.pipe.vae
    with ModuleCalls(engine.loaded.pipe.transformer) as steps, ModuleCalls(vae.decoder) as decodes:
        batched, _ = engine.run_frames(jobs, batch_size=3, **run)
    assert steps.batches == [6] and decodes.batches == [1, 1, 1]
    assert vae.use_slicing
    with ModuleCalls(vae.decoder) as decodes:
        single, _ = engine.run_frames(jobs[:1], batch_size=1, **run)
    assert decodes.batches == [1] and not vae.use_slicing
    assert_same_frames(single, batched[:1])
