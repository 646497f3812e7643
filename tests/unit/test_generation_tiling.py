"""The model-agnostic tiler: windows, weights summing to 1, MultiDiffusion equal to the full canvas for a
point-wise model, MetaEarth centre crops, the seam statistic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import BadRequestError
from core.generation.tiling import (
    WEIGHT_PROFILES,
    Window,
    axis_starts,
    compose_tiles,
    crop,
    multidiffusion_sample,
    plan_windows,
    seam_statistic,
    window_weights,
)

CANVASES = [(16, 16, 16), (16, 40, 16), (24, 40, 16), (96, 128, 64), (30, 50, 12)]


def test_windows_cover_the_canvas_with_half_tile_overlap_and_end_flush():
    assert axis_starts(128, 64, 32) == [0, 32, 64]
    assert axis_starts(100, 64, 32) == [0, 32, 36]  # the last one flush with the end, never a partial window
    windows = plan_windows(96, 128, 64)
    assert len(windows) == 2 * 3 and windows[0] == Window(0, 0, 64, 64) and windows[-1] == Window(32, 64, 64, 64)
    assert plan_windows(64, 64, 64) == [Window(0, 0, 64, 64)]
    with pytest.raises(BadRequestError, match="does not fit"):
        plan_windows(32, 64, 64)


@pytest.mark.parametrize("profile", WEIGHT_PROFILES)
@pytest.mark.parametrize(("height", "width", "tile"), CANVASES)
def test_window_weights_sum_to_one_everywhere(profile, height, width, tile):
    windows = plan_windows(height, width, tile)
    weights = window_weights(windows, height, width, profile)
    total = np.zeros((height, width))
    for window, weight in zip(windows, weights, strict=True):
        assert weight.shape == (window.height, window.width) and (weight >= 0).all()
        total[window.rows, window.cols] += weight
    np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-6)


def test_centre_weights_keep_each_interior_tiles_central_half():
    windows = plan_windows(128, 128, 64)  # 3 x 3 windows, stride 32
    weights = window_weights(windows, 128, 128, "centre")
    middle = weights[4]  # Window(32, 32, 64, 64)
    expected = np.zeros((64, 64), dtype=np.float32)
    expected[16:48, 16:48] = 1.0
    np.testing.assert_array_equal(middle, expected)
    # the corner window also keeps the canvas border only it covers
    assert weights[0][:48, :48].all() and not weights[0][48:, :].any()


def test_compose_tiles_of_crops_gives_the_canvas_back():
    rng = np.random.default_rng(0)
    canvas = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    windows = plan_windows(96, 128, 64)
    for profile in ("centre", "uniform", "gaussian"):
        joined = compose_tiles([crop(canvas, w) for w in windows], windows, 96, 128, profile)
        assert np.array_equal(joined, canvas), profile


def _pointwise_velocity(crop: torch.Tensor, _index: int, t: torch.Tensor) -> torch.Tensor:
    """A fake model whose output at a position depends only on the input there (and t)."""
    return torch.sin(crop * 3.0) - 0.01 * float(t) * crop


@pytest.mark.parametrize("profile", ["uniform", "gaussian"])
def test_multidiffusion_with_a_pointwise_model_equals_the_full_canvas(profile):
    from diffusers import FlowMatchEulerDiscreteScheduler

    def run(windows, height, width):
        scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
        scheduler.set_timesteps(5)
        latents = torch.randn((1, 4, height, width), generator=torch.Generator().manual_seed(3))
        weights = [torch.from_numpy(w) for w in window_weights(windows, height, width, profile)]

        def step(mean, t, current):
            return scheduler.step(mean, t, current, return_dict=False)[0]

        out = multidiffusion_sample(latents, scheduler.timesteps, step, windows, weights, _pointwise_velocity)
        return out, scheduler

    tiled, scheduler = run(plan_windows(24, 40, 16), 24, 40)
    full, _ = run([Window(0, 0, 24, 40)], 24, 40)
    torch.testing.assert_close(tiled, full, rtol=2e-6, atol=1e-6)  # float32 rounding of the weighted sum
    # the scheduler was stepped once per timestep (5), never once per window (15 windows x 5)
    assert scheduler.step_index == 5


def test_multidiffusion_calls_the_model_per_window_at_window_size_and_reports_each():
    seen, progress = [], []

    def velocity(crop, index, t):
        seen.append((index, tuple(crop.shape[-2:])))
        return torch.zeros_like(crop)

    windows = plan_windows(24, 40, 16)
    weights = [torch.from_numpy(w) for w in window_weights(windows, 24, 40, "uniform")]
    latents = torch.ones((1, 4, 24, 40))
    out = multidiffusion_sample(
        latents, [1.0, 0.5], lambda mean, t, x: x + mean, windows, weights, velocity,
        lambda step, done: progress.append((step, done)),
    )  # fmt: skip
    assert {shape for _, shape in seen} == {(16, 16)} and len(seen) == 2 * len(windows)
    assert progress[-1] == (1, len(windows)) and torch.equal(out, latents)


def test_seam_statistic_sees_blocky_tiles_and_not_smooth_images():
    windows = plan_windows(64, 64, 32)
    smooth = np.tile(np.linspace(0, 255, 64), (64, 1))[..., None]
    blocky = compose_tiles(
        [np.full((32, 32, 1), 25 * i, dtype=np.uint8) for i in range(len(windows))], windows, 64, 64, "centre"
    )
    noisy = blocky.astype(float) + np.random.default_rng(0).normal(0, 2, blocky.shape)
    assert seam_statistic(smooth, windows)["ratio"] == pytest.approx(1.0, abs=0.05)
    assert seam_statistic(noisy, windows)["ratio"] > 5.0
