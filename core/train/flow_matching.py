"""SD3 rectified-flow training math: timestep sampling, noising and the weighted loss.

The sigmas and timesteps come from the model's own FlowMatchEulerDiscreteScheduler (with its shift),
the timestep density and weighting from diffusers.training_utils, as in the SD3 paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NoisedBatch:
    """Noisy latents for one batch and what the model must predict."""

    noisy_latents: Any  # torch.Tensor (B, C, h, w)
    timesteps: Any  # torch.Tensor (B,), in the scheduler's 0..1000 scale
    sigmas: Any  # torch.Tensor (B, 1, 1, 1)
    target: Any  # torch.Tensor: the velocity noise - latents
    latents: Any = None  # torch.Tensor: the clean latents (the x0 target)


def training_schedule(scheduler: Any) -> tuple[Any, Any]:
    """The full training grid (timesteps, sigmas) of a flow-matching scheduler, independent of inference state."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    fresh = FlowMatchEulerDiscreteScheduler.from_config(scheduler.config)
    return fresh.timesteps.clone(), fresh.sigmas.clone()


def noise_batch(latents: Any, schedule: tuple[Any, Any], optim: Any, generator: Any) -> NoisedBatch:
    """Sample timesteps (logit-normal by default) and noise, and build the flow-matching pair.

    Args:
        latents: clean latents (B, C, h, w), already shifted and scaled like the pipeline.
        schedule: `training_schedule(scheduler)`.
        optim: the `OptimConfig` (weighting_scheme, logit_mean, logit_std, mode_scale).
        generator: a CPU `torch.Generator`; the same state gives the same noise and timesteps.
    """
    import torch
    from diffusers.training_utils import compute_density_for_timestep_sampling

    timesteps_grid, sigmas_grid = schedule
    batch = latents.shape[0]
    u = compute_density_for_timestep_sampling(
        weighting_scheme=optim.weighting_scheme,
        batch_size=batch,
        logit_mean=optim.logit_mean,
        logit_std=optim.logit_std,
        mode_scale=optim.mode_scale,
        generator=generator,
    )
    count = len(timesteps_grid)
    indices = (u * count).long().clamp(0, count - 1)
    timesteps = timesteps_grid[indices].to(latents.device)
    sigmas = sigmas_grid[indices].to(device=latents.device, dtype=latents.dtype).view(batch, 1, 1, 1)
    noise = torch.randn(latents.shape, generator=generator, dtype=torch.float32).to(latents.device, latents.dtype)
    noisy = (1.0 - sigmas) * latents + sigmas * noise
    return NoisedBatch(noisy_latents=noisy, timesteps=timesteps, sigmas=sigmas, target=noise - latents, latents=latents)


def flow_matching_loss(
    prediction: Any, noised: NoisedBatch, weighting_scheme: str, prediction_target: str = "velocity"
) -> Any:
    """Weighted MSE, mean over the batch (SD3 weighting).

    `prediction_target="velocity"` compares the prediction with `noise - latents` (diffusers' scripts);
    `"x0"` first turns it into a clean-latent estimate `noisy - sigma * prediction` and compares that
    with the latents (the original EcoMapper scripts' preconditioning, EDM section 5): the same
    optimum, but the error is weighted by sigma^2 per sample.
    """
    from diffusers.training_utils import compute_loss_weighting_for_sd3

    weighting = compute_loss_weighting_for_sd3(weighting_scheme=weighting_scheme, sigmas=noised.sigmas)
    if prediction_target == "x0":
        estimate = prediction * (-noised.sigmas) + noised.noisy_latents
        error = weighting.float() * (estimate.float() - noised.latents.float()) ** 2
    else:
        error = weighting.float() * (prediction.float() - noised.target.float()) ** 2
    return error.reshape(error.shape[0], -1).mean(dim=1).mean()
