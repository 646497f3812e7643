"""SD3 over a region larger than one model call, with the tiler of `core.generation.tiling`.

The transformer, the ControlNet and the VAE only ever see tile-sized inputs; the canvas itself is
noise, latents and pixels. MetaEarth runs each tile through the engine's stock pipeline call (its
initial noise = its crop of one canvas noise); MultiDiffusion runs our own loop of the stock SD3
pipeline's steps (same noise, timesteps, guidance and decoding), with one scheduler step per
timestep on the whole canvas. With one window covering the canvas it is the stock pipeline, bit for bit.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import BadRequestError
from core.generation.progress import ProgressCallback, report_or_cancel
from core.generation.prompts import CFG_THRESHOLD, NEGATIVE_PROMPTS
from core.generation.tiling import (
    METHOD_NAMES,
    METHOD_PROFILE,
    MULTIDIFFUSION_MODES,
    Window,
    blend,
    compose_tiles,
    multidiffusion_sample,
    window_weights,
)


@dataclass(frozen=True)
class RegionCanvas:
    """The canvas (height x width px) and its tile windows in pixels."""

    height_px: int
    width_px: int
    windows: tuple[Window, ...]
    tile_px: int


def shared_noise(engine: Any, seed: int, height_px: int, width_px: int, dtype: Any) -> Any:
    """The canvas's initial noise, drawn as the stock pipeline draws one image's (`prepare_latents`);
    `dtype` is the prompt embeddings' (the pipeline's choice)."""
    import torch

    pipe = engine.loaded.pipe
    device = engine.loaded.device
    noise_device = "cpu" if device == "mps" else device
    generator = [torch.Generator(device=noise_device).manual_seed(seed)]
    channels = pipe.transformer.config.in_channels
    return pipe.prepare_latents(1, channels, height_px, width_px, dtype, pipe._execution_device, generator)


def _latent_windows(engine: Any, canvas: RegionCanvas) -> list[Window]:
    factor = engine.loaded.pipe.vae_scale_factor
    if canvas.tile_px % factor or any(w.top % factor or w.left % factor for w in canvas.windows):
        raise BadRequestError("The region's windows are not on the latent grid.", "Use sides that are multiples of 16.")
    return [Window(w.top // factor, w.left // factor, w.height // factor, w.width // factor) for w in canvas.windows]


def run_region(
    engine: Any,
    jobs: Sequence[Any],
    canvas: RegionCanvas,
    *,
    method: str,
    mode: str,
    seed: int,
    num_inference_steps: int,
    guidance_scale: float,
    controlnet_conditioning_scale: float = 1.0,
    strength: float = 0.6,
    edit_options: Any = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """One uint8 canvas image from one `FrameJob` per window (its prompts; its control / source crop).

    Returns:
        (image, timings): the canvas image, and `denoise_s` / `encode_s` / `tile_calls` (model calls made).
    """
    if len(jobs) != len(canvas.windows):
        raise BadRequestError(f"{len(jobs)} jobs for {len(canvas.windows)} windows.", "Give one job per window.")
    sampling = dict(
        mode=mode,
        seed=seed,
        num_inference_steps=num_inference_steps,
        guidance_scale=guidance_scale,
        controlnet_conditioning_scale=controlnet_conditioning_scale,
        progress=progress,
        cancel=cancel,
    )
    if method == "metaearth":
        return _run_metaearth(engine, jobs, canvas, strength=strength, edit_options=edit_options, **sampling)
    if mode not in MULTIDIFFUSION_MODES:
        raise BadRequestError(
            f"{METHOD_NAMES.get(method, method)} regions run in modes {' and '.join(MULTIDIFFUSION_MODES)}, "
            f"not {mode!r}.",
            "Use --method metaearth for img2img, edit and invert regions.",
        )
    if method not in METHOD_PROFILE:
        raise BadRequestError(f"Unknown region method {method!r}.", f"Use one of {', '.join(METHOD_PROFILE)}.")
    return _run_multidiffusion(engine, jobs, canvas, profile=METHOD_PROFILE[method], **sampling)


def _run_metaearth(engine: Any, jobs: Sequence[Any], canvas: RegionCanvas, *, mode: str, seed: int,
                   progress: ProgressCallback | None, cancel: threading.Event | None,
                   **sampling: Any) -> tuple[np.ndarray, dict[str, float]]:  # fmt: skip
    """Every tile on its own through the stock pipeline, from its crop of the canvas noise; centre crops kept."""
    indices = range(len(jobs))
    images, timings = metaearth_tiles(engine, jobs, canvas, indices, mode=mode, seed=seed, progress=progress,
                                      cancel=cancel, **sampling)  # fmt: skip
    image = compose_tiles(images, canvas.windows, canvas.height_px, canvas.width_px, METHOD_PROFILE["metaearth"])
    return image, {**timings, "tile_calls": float(len(jobs) * sampling["num_inference_steps"])}


def metaearth_tiles(engine: Any, jobs: Sequence[Any], canvas: RegionCanvas, indices: Sequence[int], *, mode: str,
                    seed: int, progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                    **sampling: Any) -> tuple[list[np.ndarray], dict[str, float]]:  # fmt: skip
    """The MetaEarth tiles `indices` of the canvas (each from its crop of the whole canvas's noise), so any
    split of the tiles over processes gives the same pixels as one process making them all."""
    dtype = engine.embeddings(jobs[0].prompts)[0].dtype
    noise = shared_noise(engine, seed, canvas.height_px, canvas.width_px, dtype)
    latent_windows = _latent_windows(engine, canvas)
    crops = {i: noise[..., latent_windows[i].rows, latent_windows[i].cols] for i in indices}
    tile_jobs = [dataclasses.replace(jobs[i], seed=seed, latents=crops[i].clone()) for i in indices]
    return engine.run_frames(
        tile_jobs, mode=mode, size_px=canvas.tile_px, batch_size=1, progress=progress, cancel=cancel, **sampling
    )


@dataclass
class _Conditioning:
    """Per window: prompt embeddings (negative first with guidance) and, for ControlNet, control latents."""

    embeds: list[Any]
    pooled: list[Any]
    control: list[Any] | None
    controlnet_pooled: list[Any] | None


def _conditioning(engine: Any, jobs: Sequence[Any], mode: str, use_cfg: bool, tile_px: int, seed: int) -> _Conditioning:
    import torch

    embeds, pooled = [], []
    negative = engine.embeddings(NEGATIVE_PROMPTS) if use_cfg else None
    for job in jobs:
        positive, positive_pooled = engine.embeddings(job.prompts)
        embeds.append(torch.cat([negative[0], positive]) if use_cfg else positive)
        pooled.append(torch.cat([negative[1], positive_pooled]) if use_cfg else positive_pooled)
    if mode != "controlnet":
        return _Conditioning(embeds, pooled, None, None)
    pipe = engine.loaded.controlnet_pipe
    vae = engine.loaded.pipe.vae
    # the pipeline's own preparation: VAE sample, InstantX without the shift factor, scaled; doubled for guidance
    force_zeros = pipe.controlnet.config.force_zeros_for_pooled_projection
    shift = 0 if force_zeros else vae.config.shift_factor
    raw = engine._control_latents(vae, [job.control_image for job in jobs], [seed] * len(jobs), tile_px)
    control = [((latent[None] - shift) * vae.config.scaling_factor) for latent in raw]
    control = [torch.cat([c, c]) if use_cfg else c for c in control]
    controlnet_pooled = [torch.zeros_like(p) if force_zeros else p for p in pooled]
    return _Conditioning(embeds, pooled, control, controlnet_pooled)


def _window_velocity(engine: Any, mode: str, cond: _Conditioning, guidance_scale: float, use_cfg: bool,
                     controlnet_conditioning_scale: float) -> Callable[[Any, int, Any], Any]:  # fmt: skip
    """The stock pipeline's model output for one window's crop at timestep t (guidance included)."""
    import torch

    pipe = engine.loaded.pipeline_for(mode)  # refuses ControlNet mode without a loaded ControlNet

    def velocity(crop: Any, index: int, t: Any) -> Any:
        model_input = torch.cat([crop] * 2) if use_cfg else crop
        timestep = t.expand(model_input.shape[0])
        extra = {}
        if cond.control is not None:
            uses_text = pipe.controlnet.config.joint_attention_dim is not None
            extra["block_controlnet_hidden_states"] = pipe.controlnet(
                hidden_states=model_input,
                timestep=timestep,
                encoder_hidden_states=cond.embeds[index] if uses_text else None,
                pooled_projections=cond.controlnet_pooled[index],
                joint_attention_kwargs=None,
                controlnet_cond=cond.control[index],
                conditioning_scale=controlnet_conditioning_scale,
                return_dict=False,
            )[0]
        output = pipe.transformer(
            hidden_states=model_input, timestep=timestep, encoder_hidden_states=cond.embeds[index],
            pooled_projections=cond.pooled[index], joint_attention_kwargs=None, return_dict=False, **extra,
        )[0]  # fmt: skip
        if use_cfg:
            uncond, text = output.chunk(2)
            output = uncond + guidance_scale * (text - uncond)
        return output

    return velocity


def _timesteps(pipe: Any, num_inference_steps: int, tile_latent: int) -> Any:
    """The stock pipeline's timesteps; a dynamic shift is computed for the tile (the model's input) size."""
    from diffusers.pipelines.stable_diffusion_3.pipeline_stable_diffusion_3 import calculate_shift, retrieve_timesteps

    scheduler = pipe.scheduler
    kwargs = {}
    if scheduler.config.get("use_dynamic_shifting", None):
        seq_len = (tile_latent // pipe.transformer.config.patch_size) ** 2
        kwargs["mu"] = calculate_shift(
            seq_len, scheduler.config.get("base_image_seq_len", 256), scheduler.config.get("max_image_seq_len", 4096),
            scheduler.config.get("base_shift", 0.5), scheduler.config.get("max_shift", 1.16),
        )  # fmt: skip
    timesteps, _ = retrieve_timesteps(scheduler, num_inference_steps, pipe._execution_device, **kwargs)
    return timesteps


def _run_multidiffusion(engine: Any, jobs: Sequence[Any], canvas: RegionCanvas, *, profile: str, mode: str, seed: int,
                        num_inference_steps: int, guidance_scale: float, controlnet_conditioning_scale: float,
                        progress: ProgressCallback | None,
                        cancel: threading.Event | None) -> tuple[np.ndarray, dict[str, float]]:  # fmt: skip
    """Velocities of every window averaged on the canvas with `profile` weights, one Euler step per timestep;
    tiles decoded and blended with the same weights."""
    import torch

    # 1. conditioning per window, the canvas noise, the windows in latent cells and their weights
    started = time.perf_counter()
    use_cfg = guidance_scale > CFG_THRESHOLD
    pipe = engine.loaded.pipeline_for(mode)  # refuses ControlNet mode without a loaded ControlNet
    latent_windows = _latent_windows(engine, canvas)
    with engine._run_lock, torch.inference_mode():
        cond = _conditioning(engine, jobs, mode, use_cfg, canvas.tile_px, seed)
        latents = shared_noise(engine, seed, canvas.height_px, canvas.width_px, cond.embeds[0].dtype)
        encode_s = time.perf_counter() - started
        started = time.perf_counter()
        height, width = latents.shape[-2:]
        weights = [
            torch.from_numpy(w).to(latents.device, latents.dtype)
            for w in window_weights(latent_windows, height, width, profile)
        ]
        # 2. the steps: the windows' velocities averaged, then ONE scheduler step on the canvas
        timesteps = _timesteps(pipe, num_inference_steps, canvas.tile_px // pipe.vae_scale_factor)
        total = len(timesteps) * len(jobs)
        on_window = _window_progress(total, len(jobs), len(timesteps), progress, cancel)
        velocity = _window_velocity(engine, mode, cond, guidance_scale, use_cfg, controlnet_conditioning_scale)

        def step(mean: Any, t: Any, current: Any) -> Any:
            return pipe.scheduler.step(mean, t, current, return_dict=False)[0]

        latents = multidiffusion_sample(latents, timesteps, step, latent_windows, weights, velocity, on_window)
        # 3. decode tile by tile (the VAE at tile size too) and blend the pixels with the same weights
        image = _decode_blended(pipe, latents, latent_windows, canvas, profile)
    timings = {"encode_s": encode_s, "denoise_s": time.perf_counter() - started,
               "tile_calls": float(len(timesteps) * len(jobs))}  # fmt: skip
    return image, timings


def _decode_blended(
    pipe: Any, latents: Any, latent_windows: Sequence[Window], canvas: RegionCanvas, profile: str
) -> np.ndarray:
    """Each window's latents decoded as the pipeline decodes one image; pixels blended, then to 8 bits."""
    import torch

    vae = pipe.vae
    weights = [
        torch.from_numpy(w).to(latents.device)
        for w in window_weights(canvas.windows, canvas.height_px, canvas.width_px, profile)
    ]

    def decoded(index: int, window: Window) -> Any:
        tile = latents[..., window.rows, window.cols]
        tile = (tile / vae.config.scaling_factor) + vae.config.shift_factor
        pixels = pipe.image_processor.postprocess(vae.decode(tile, return_dict=False)[0], output_type="pt")
        return pixels.float()[0]

    canvas_pixels = latents.new_zeros((3, canvas.height_px, canvas.width_px), dtype=torch.float32)
    # the decode of window k reads latent window k, drawn at pixel window k
    pixel_windows = list(canvas.windows)
    joined = blend(canvas_pixels, pixel_windows, weights, lambda index, _w: decoded(index, latent_windows[index]))
    frames = (joined.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return frames.permute(1, 2, 0).cpu().numpy()


def _window_progress(total: int, n_windows: int, n_steps: int, progress: ProgressCallback | None,
                     cancel: threading.Event | None) -> Callable[[int, int], None]:  # fmt: skip
    """Progress over tiles x steps; `CancelledError` between two windows when `cancel` is set."""

    def on_window(step_index: int, windows_done: int) -> None:
        report_or_cancel(
            progress, cancel, step_index * n_windows + windows_done, total,
            f"step {step_index + 1}/{n_steps}: tile {windows_done} of {n_windows}",
            f"Region cancelled at step {step_index + 1} of {n_steps} (tile {windows_done} of {n_windows}).",
        )  # fmt: skip

    return on_window
