"""The generation engine: a loaded pipeline plus a cache of text embeddings, running batches of frames.

Text encoders (two CLIPs and T5, ~5 B parameters for SD3 Medium) are the costliest part of a short
run, and a time series or scenario grid repeats prompts: each distinct prompt is encoded once and
its embeddings reused (`pipe.encode_prompt`, then `prompt_embeds=` / `pooled_prompt_embeds=`).
The engine is what the app holds between requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from core.config import Settings
from core.errors import CancelledError
from core.generation.progress import ProgressCallback, report_or_cancel
from core.generation.prompts import CFG_THRESHOLD, CLIMATE_MAX_SEQUENCE_LENGTH, NEGATIVE_PROMPTS, Prompts
from core.models.loading import LoadedPipeline, load_pipeline
from core.models.spec import ModelSpec

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class FrameJob:
    """One image to make: its prompts, seed, and (ControlNet mode) its control image (uint8 HxWx3)."""

    prompts: Prompts
    seed: int
    control_image: Any | None = None
    mask: Any | None = None  # inpainting: bool HxW, True where to repaint
    source_prompts: Prompts | None = None  # edit / invert: the caption of the source (observed climate)
    latents: Any | None = None  # text / ControlNet: the initial noise itself (a region tile's crop), not the seed's


class Engine:
    """A `LoadedPipeline` with an embedding cache, step-level progress and cancellation.

    Args:
        loaded: the pipeline from `core.models.load_pipeline`.
        max_cached_prompts: how many distinct prompt pairs keep their embeddings (LRU).
        memory_budget_bytes: plan batches and VAE tiling with at most this much memory (default:
            whatever the device has free at the time of each run).
    """

    def __init__(
        self, loaded: LoadedPipeline, max_cached_prompts: int = 256, memory_budget_bytes: int | None = None
    ) -> None:
        self.loaded = loaded
        self.memory_budget_bytes = memory_budget_bytes
        self.max_cached_prompts = max_cached_prompts
        self._embeddings: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        # a diffusers pipeline keeps per-run state (scheduler timesteps): one run at a time, also
        # across engines that wrap the same loaded model
        if getattr(loaded, "_run_lock", None) is None:
            loaded._run_lock = threading.RLock()
        self._run_lock = loaded._run_lock
        self.encode_calls = 0  # how many prompt pairs went through the text encoders
        self.control_encodes = 0  # how many control images went through the VAE encoder
        self.compiled = False
        self._compile_warm = True

    @classmethod
    def load(cls, spec: ModelSpec, settings: Settings, progress: ProgressCallback | None = None) -> Engine:
        return cls(load_pipeline(spec, settings, progress=progress))

    @property
    def model_id(self) -> str:
        return self.loaded.model_id

    def clear_cache(self) -> None:
        with self._lock:
            self._embeddings.clear()

    def embeddings(self, prompts: Prompts) -> tuple[Any, Any]:
        """(prompt_embeds, pooled_prompt_embeds) of one prompt pair, from the cache when seen before.

        CLIP-L and CLIP-G read the spatial prompt, T5 the climate prompt (max 256 tokens).
        """
        import torch

        pipe = self.loaded.pipe
        # a LoRA may carry text-encoder layers, so its identity and scale are part of the key
        spec = self.loaded.spec
        key = (
            prompts.spatial,
            prompts.climate,
            self.loaded.has_t5,
            str(self.loaded.device),
            spec.lora,
            spec.lora_scale,
        )
        with self._lock:
            if key in self._embeddings:
                self._embeddings.move_to_end(key)
                return self._embeddings[key]
        with torch.inference_mode():
            embeds, _, pooled, _ = pipe.encode_prompt(
                prompt=prompts.spatial,
                prompt_2=prompts.spatial,
                prompt_3=prompts.climate,
                device=pipe._execution_device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=False,
                max_sequence_length=CLIMATE_MAX_SEQUENCE_LENGTH,
            )
        with self._lock:
            self.encode_calls += 1
            self._embeddings[key] = (embeds, pooled)
            while len(self._embeddings) > self.max_cached_prompts:
                self._embeddings.popitem(last=False)
        return embeds, pooled

    def compile(self) -> None:
        """Fuse the attention QKV projections and `torch.compile` the transformer (and ControlNet).

        The first run afterwards pays the compilation (reported as `compile_warmup_s` in its
        timings); later runs of the same shapes reuse it. Fusing changes float rounding slightly.
        """
        import torch

        models = [("transformer", self.loaded.pipe)]
        if self.loaded.controlnet_pipe is not None:
            models.append(("controlnet", self.loaded.controlnet_pipe))
        for name, pipeline in models:
            module = getattr(pipeline, name)
            if getattr(module, "_ecomapper_compiled", False):
                continue
            if hasattr(module, "fuse_qkv_projections"):
                module.fuse_qkv_projections()
            compiled = torch.compile(module, dynamic=False)
            compiled._ecomapper_compiled = True
            # both pipelines share the transformer: swap it in each (module registry kept in step)
            for target in (self.loaded.pipe, self.loaded.controlnet_pipe):
                if target is not None and getattr(target, name, None) is module:
                    target.register_modules(**{name: compiled})
        self.compiled = True
        self._compile_warm = False

    def _control_latents(self, vae, images: list[Any], seeds: list[int], size_px: int) -> Any:
        """VAE latents of each control image (uint8 HxWx3), encoded once per distinct image in the call.

        The latent is drawn from the VAE posterior with a generator seeded by the first job that
        uses the image, so a frame's latent does not depend on the batch it is in. Without guidance
        this is exactly what diffusers computes when the global generator has that seed; with
        guidance diffusers draws a second, different sample for the negative branch, while here
        both branches see the same latents of the same image.
        """
        import torch

        pipe = self.loaded.controlnet_pipe
        device = pipe._execution_device
        encoded: dict[int, Any] = {}
        rows = []
        for image, seed in zip(images, seeds, strict=True):
            key = id(image)
            if key not in encoded:
                from PIL import Image

                from core.models.control import control_pixels
                from core.models.registry import ControlProfile

                # an edge ControlNet gets Canny edges, never the raw image (core.models.control)
                shown = control_pixels(image, self.loaded.controlnet_profile or ControlProfile())
                # through PIL, as the pipeline would take it (a NumPy array would be read as 0..1 floats)
                pixels = pipe.image_processor.preprocess(Image.fromarray(shown), height=size_px, width=size_px)
                if getattr(pipe, "control_range", "-1-1") == "0-1":
                    # ControlNets of the original EcoMapper scripts saw the control image in [0, 1]
                    # (core.models.original_formats.install_control_range); preprocess gives [-1, 1].
                    pixels = (pixels + 1.0) / 2.0
                pixels = pixels.to(device=device, dtype=vae.dtype)
                noise_device = "cpu" if str(device) == "mps" else device
                generator = torch.Generator(device=noise_device).manual_seed(seed)
                encoded[key] = vae.encode(pixels).latent_dist.sample(generator=generator)
                self.control_encodes += 1
            rows.append(encoded[key])
        return torch.cat(rows)

    def run_frames(
        self,
        jobs: Sequence[FrameJob],
        *,
        mode: str,
        size_px: int,
        num_inference_steps: int,
        guidance_scale: float,
        controlnet_conditioning_scale: float = 1.0,
        batch_size: int | None = 1,
        strength: float = 0.6,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        progress_offset: int = 0,
        progress_total: int | None = None,
        edit_options: Any = None,
    ) -> tuple[list[Any], dict[str, float]]:
        """Generate one uint8 HxWx3 image per job, `batch_size` jobs per pipeline call.

        Modes: "text", "controlnet", "img2img" (from `job.control_image` noised to `strength`; 0 returns
        its VAE round trip) and "inpaint" (repaints `job.mask`); the last two run one job per call.

        Text and ControlNet jobs batch alike; in ControlNet mode each control image is VAE-encoded
        once per call, however many frames share it (a series or grid shares one). Each job's noise
        comes from its own `torch.Generator` seeded with `job.seed`, so a frame's pixels do not
        depend on which batch it was in (up to float rounding of batched matrix products).

        Args:
            batch_size: jobs per call; None chooses from the free memory of the device
                (`core.models.memory.auto_batch_size`).

        Returns:
            (images, timings) with timings `encode_s` (text and control encoding), `denoise_s` (which
            includes the VAE decode) and, on the first run after `compile()`, `compile_warmup_s`.

        Raises:
            CancelledError: `cancel` was set (checked before each frame and after each step).
        """
        import numpy as np
        import torch

        if mode in ("edit", "invert"):  # real image edited from source to target caption: core.models.flow_edit
            from core.models.flow_edit import run_edit_frames

            return run_edit_frames(self, jobs, mode=mode, size_px=size_px, num_inference_steps=num_inference_steps,
                                   options=edit_options, progress=progress, cancel=cancel,
                                   progress_offset=progress_offset, progress_total=progress_total)  # fmt: skip
        # 1. plan: the pipeline of the mode, frames per call, VAE tiling
        pipe = self.loaded.pipeline_for(mode)
        use_cfg = guidance_scale > CFG_THRESHOLD
        batch_size = self._plan_batches(jobs, mode, size_px, use_cfg, batch_size)
        vae = self.loaded.pipe.vae
        total = progress_total if progress_total is not None else len(jobs) * num_inference_steps
        timings = {"encode_s": 0.0, "denoise_s": 0.0}
        images: list[Any] = []
        # 2. ControlNet: every distinct control image through the VAE once
        control_latents = None
        if mode == "controlnet":
            started = time.perf_counter()
            with self._run_lock, torch.inference_mode():
                control_latents = self._control_latents(
                    vae, [job.control_image for job in jobs], [job.seed for job in jobs], size_px
                )
            timings["encode_s"] += time.perf_counter() - started
        for start in range(0, len(jobs), batch_size):
            batch = list(jobs[start : start + batch_size])
            if cancel is not None and cancel.is_set():
                raise CancelledError(
                    f"Generation cancelled before frame {start + 1} of {len(jobs)}.", "Start it again when ready."
                )
            # 3. the batch's inputs: cached prompt embeddings and the mode's images
            started = time.perf_counter()
            kwargs, shortcut = self._batch_inputs(
                pipe, batch, mode, size_px, use_cfg, controlnet_conditioning_scale, strength
            )
            if shortcut is not None:
                images.append(shortcut)  # nothing to denoise at strength 0
                continue
            timings["encode_s"] += time.perf_counter() - started
            # 4. denoise and decode, reporting each step and stopping when cancelled
            on_step_end = _step_callback(
                done_before=progress_offset + start * num_inference_steps,
                total=total,
                label=f"frame {start + 1}" + (f"-{start + len(batch)}" if len(batch) > 1 else ""),
                width=len(batch),
                n_jobs=len(jobs),
                num_inference_steps=num_inference_steps,
                progress=progress,
                cancel=cancel,
            )
            started = time.perf_counter()
            batch_latents = None if control_latents is None else control_latents[start : start + len(batch)]
            frames = self._denoise(
                pipe, batch, kwargs, batch_latents, size_px, num_inference_steps, guidance_scale, on_step_end
            )
            elapsed = time.perf_counter() - started
            if self.compiled and not self._compile_warm:
                timings["compile_warmup_s"] = elapsed  # the first compiled call includes the compilation
                self._compile_warm = True
            timings["denoise_s"] += elapsed
            images.extend(np.ascontiguousarray(frame) for frame in frames)
        return images, timings

    def _plan_batches(
        self, jobs: Sequence[FrameJob], mode: str, size_px: int, use_cfg: bool, batch_size: int | None
    ) -> int:
        """Frames per pipeline call (None: from the free memory), and VAE tiling on or off to fit."""
        from core.models.memory import auto_batch_size, needs_vae_tiling

        if batch_size is None:
            batch_size = auto_batch_size(
                self.loaded, size_px, mode=mode, guidance=use_cfg, budget_bytes=self.memory_budget_bytes
            )
        batch_size = max(1, min(batch_size, len(jobs) or 1))
        if mode in ("img2img", "inpaint"):
            batch_size = 1  # each job has its own start image (and mask)
        vae = self.loaded.pipe.vae
        # A batch decodes frame by frame (sliced): decoding 8 frames at once measured 189 ms/frame
        # against 116 one by one at 512 px on a CPU, which made a batched series slower than a loop.
        if batch_size > 1:
            vae.enable_slicing()
        else:
            vae.disable_slicing()
        if needs_vae_tiling(self.loaded, size_px, 1, budget_bytes=self.memory_budget_bytes):
            vae.enable_tiling()
        else:
            vae.disable_tiling()
        return batch_size

    def _batch_inputs(
        self,
        pipe: Any,
        batch: list[FrameJob],
        mode: str,
        size_px: int,
        use_cfg: bool,
        controlnet_conditioning_scale: float,
        strength: float,
    ) -> tuple[dict[str, Any], Any | None]:
        """(pipeline keyword arguments of one call, None), or ({}, image) when img2img at strength 0
        needs no denoising (the start image's VAE round trip)."""
        import torch
        from PIL import Image

        embeds, pooled = zip(*(self.embeddings(job.prompts) for job in batch), strict=True)
        kwargs: dict[str, Any] = {
            "prompt_embeds": torch.cat(embeds),
            "pooled_prompt_embeds": torch.cat(pooled),
        }
        if use_cfg:
            negative, negative_pooled = self.embeddings(NEGATIVE_PROMPTS)
            kwargs["negative_prompt_embeds"] = negative.repeat(len(batch), 1, 1)
            kwargs["negative_pooled_prompt_embeds"] = negative_pooled.repeat(len(batch), 1)
        if mode == "controlnet":
            # a stand-in the pipeline never reads: the latents from `_control_latents` replace its encode
            kwargs["control_image"] = Image.new("RGB", (size_px, size_px))
            kwargs["controlnet_conditioning_scale"] = controlnet_conditioning_scale
        elif mode in ("img2img", "inpaint"):
            from core.models.image_modes import mode_inputs, vae_round_trip

            job = batch[0]
            if mode == "img2img" and strength == 0.0:
                return {}, vae_round_trip(pipe, job.control_image)
            kwargs.update(mode_inputs(self.loaded, mode, job.control_image, job.mask, strength, 1.0))
        return kwargs, None

    def _denoise(
        self,
        pipe: Any,
        batch: list[FrameJob],
        kwargs: dict[str, Any],
        control_latents: Any | None,
        size_px: int,
        num_inference_steps: int,
        guidance_scale: float,
        on_step_end: Callable,
    ) -> Any:
        """One pipeline call over the batch, each frame with its own seeded noise: uint8 NxHxWx3 on the host."""
        import torch

        device = self.loaded.device
        noise_device = "cpu" if device == "mps" else device  # MPS generators are not reproducible
        generators = [torch.Generator(device=noise_device).manual_seed(job.seed) for job in batch]
        if all(job.latents is not None for job in batch) and "image" not in kwargs:
            kwargs = {**kwargs, "latents": torch.cat([job.latents for job in batch])}  # region tiles: shared noise
        known = nullcontext()
        if control_latents is not None:
            known = known_control_latents(pipe, control_latents)
        with self._run_lock, torch.inference_mode(), known:
            output = pipe(
                height=size_px,
                width=size_px,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                generator=generators,
                output_type="pt",
                callback_on_step_end=on_step_end,
                max_sequence_length=CLIMATE_MAX_SEQUENCE_LENGTH,
                **kwargs,
            )
            # to 8 bits where the images are: a quarter of the bytes cross to the host
            frames = (output.images.float().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
            return frames.permute(0, 2, 3, 1).cpu().numpy()


def _step_callback(
    *,
    done_before: int,
    total: int,
    label: str,
    width: int,
    n_jobs: int,
    num_inference_steps: int,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> Callable:
    """diffusers' `callback_on_step_end` for one call: progress per step, and `CancelledError` when cancelled."""

    def on_step_end(_pipe, step, _timestep, callback_kwargs):
        report_or_cancel(
            progress, cancel, done_before + (step + 1) * width, total,
            f"{label} of {n_jobs}: step {step + 1}/{num_inference_steps}",
            f"Generation cancelled at step {step + 1} of {num_inference_steps} ({label}).",
        )  # fmt: skip
        return callback_kwargs

    return on_step_end


class _FixedPosterior:
    """Stands in for the VAE posterior of the control image: its 'sample' is the latent computed before."""

    def __init__(self, latents: Any) -> None:
        self.latents = latents

    def sample(self, generator: Any = None) -> Any:
        return self.latents

    def mode(self) -> Any:
        return self.latents


@dataclass(frozen=True)
class _EncodeOutput:
    latent_dist: _FixedPosterior


class _VaeWithKnownControl:
    """The pipeline's VAE, except that `encode` answers with the control latents computed beforehand."""

    def __init__(self, vae: Any, latents: Any) -> None:
        self._vae = vae
        self._latents = latents

    def encode(self, pixels: Any, return_dict: bool = True) -> Any:
        import torch

        copies = pixels.shape[0] // self._latents.shape[0]  # 2 with classifier-free guidance
        latents = torch.cat([self._latents] * copies) if copies > 1 else self._latents
        output = _EncodeOutput(_FixedPosterior(latents))
        return output if return_dict else (output.latent_dist,)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._vae, name)


@contextmanager
def known_control_latents(pipe: Any, latents: Any) -> Iterator[None]:
    """While inside, `pipe` (an SD3 ControlNet pipeline) uses `latents` instead of encoding its control image.

    diffusers' pipeline preprocesses and VAE-encodes the control image on every call; a series
    conditions every frame on the same image, so the engine encodes it once and hands the latents in
    here. Only this pipeline object is affected (its own `vae` and `prepare_image` attributes are
    shadowed and restored); the shared VAE module itself is untouched.
    """
    import torch

    def prepare_image(image, width, height, batch_size, num_images_per_prompt, device, dtype, **kwargs):
        copies = 2 if kwargs.get("do_classifier_free_guidance") and not kwargs.get("guess_mode") else 1
        # only the shape is read (height and width); a broadcast view costs no memory
        return torch.zeros((), device=device, dtype=dtype).expand(batch_size * copies, 3, height, width)

    vae = pipe.vae
    # a [0, 1] ControlNet has its own prepare_image on the instance: put it back afterwards
    shadowed = pipe.__dict__.get("prepare_image")
    object.__setattr__(pipe, "vae", _VaeWithKnownControl(vae, latents))
    object.__setattr__(pipe, "prepare_image", prepare_image)
    try:
        yield
    finally:
        object.__setattr__(pipe, "vae", vae)
        if shadowed is None:
            del pipe.__dict__["prepare_image"]
        else:
            object.__setattr__(pipe, "prepare_image", shadowed)
