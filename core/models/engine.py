"""The generation engine: a loaded pipeline plus a cache of text embeddings, running batches of frames.

Text encoders (two CLIPs and T5, ~5 B parameters for SD3 Medium) are the costliest part of a short
run, and a time series or scenario grid repeats prompts: each distinct prompt is encoded once and
its embeddings reused (`pipe.encode_prompt`, then `prompt_embeds=` / `pooled_prompt_embeds=`).
The engine is what the app holds between requests.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.config import Settings
from core.errors import CancelledError
from core.models.loading import LoadedPipeline, load_pipeline
from core.models.spec import ModelSpec
from core.prompts import CLIMATE_MAX_SEQUENCE_LENGTH, Prompts

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
# Guidance above this uses classifier-free guidance (an extra, negative, branch), as in diffusers.
CFG_THRESHOLD = 1.0
NEGATIVE_PROMPTS = Prompts(spatial="", climate="")


@dataclass(frozen=True)
class FrameJob:
    """One image to make: its prompts, seed, its control / start image (uint8 HxWx3) and inpainting mask (bool HxW)."""

    prompts: Prompts
    seed: int
    control_image: Any | None = None
    mask: Any | None = None


class Engine:
    """A `LoadedPipeline` with an embedding cache, step-level progress and cancellation.

    Args:
        loaded: the pipeline from `core.models.load_pipeline`.
        max_cached_prompts: how many distinct prompt pairs keep their embeddings (LRU).
    """

    def __init__(self, loaded: LoadedPipeline, max_cached_prompts: int = 256) -> None:
        self.loaded = loaded
        self.max_cached_prompts = max_cached_prompts
        self._embeddings: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()
        # a diffusers pipeline keeps per-run state (scheduler timesteps): one run at a time
        self._run_lock = threading.RLock()
        self.encode_calls = 0  # how many prompt pairs went through the text encoders

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

    def run_frames(
        self,
        jobs: Sequence[FrameJob],
        *,
        mode: str,
        size_px: int,
        num_inference_steps: int,
        guidance_scale: float,
        controlnet_conditioning_scale: float = 1.0,
        batch_size: int = 1,
        strength: float = 0.6,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        progress_offset: int = 0,
        progress_total: int | None = None,
    ) -> tuple[list[Any], dict[str, float]]:
        """Generate one uint8 HxWx3 image per job, `batch_size` at a time (text mode).

        Modes: "text", "img2img" (from `job.control_image` noised to `strength`), "inpaint" (repaints
        `job.mask`), "controlnet" (`job.control_image` prepared as the ControlNet's profile says).

        ControlNet jobs run one at a time (each has its own control image). Each job's noise comes
        from its own `torch.Generator` seeded with `job.seed`, so a frame's pixels do not depend on
        which batch it was in (up to float rounding of batched matrix products).

        Returns:
            (images, timings) with timings `encode_s` and `denoise_s` (which includes the VAE decode).

        Raises:
            CancelledError: `cancel` was set (checked before each frame and after each step).
        """
        import numpy as np
        import torch

        from core.models.image_modes import mode_inputs, vae_round_trip

        pipe = self.loaded.pipeline_for(mode)
        self.loaded.prepare_for_size(size_px)
        use_cfg = guidance_scale > CFG_THRESHOLD
        total = progress_total if progress_total is not None else len(jobs) * num_inference_steps
        timings = {"encode_s": 0.0, "denoise_s": 0.0}
        images: list[Any] = []
        step_in_batch = batch_size if mode == "text" else 1
        for start in range(0, len(jobs), max(1, step_in_batch)):
            batch = list(jobs[start : start + max(1, step_in_batch)])
            if cancel is not None and cancel.is_set():
                raise CancelledError(
                    f"Generation cancelled before frame {start + 1} of {len(jobs)}.", "Start it again when ready."
                )
            started = time.perf_counter()
            embeds, pooled = zip(*(self.embeddings(job.prompts) for job in batch), strict=True)
            kwargs: dict[str, Any] = {
                "prompt_embeds": torch.cat(embeds),
                "pooled_prompt_embeds": torch.cat(pooled),
            }
            if use_cfg:
                negative, negative_pooled = self.embeddings(NEGATIVE_PROMPTS)
                kwargs["negative_prompt_embeds"] = negative.repeat(len(batch), 1, 1)
                kwargs["negative_pooled_prompt_embeds"] = negative_pooled.repeat(len(batch), 1)
            job = batch[0]
            kwargs.update(
                mode_inputs(self.loaded, mode, job.control_image, job.mask, strength, controlnet_conditioning_scale)
            )
            timings["encode_s"] += time.perf_counter() - started
            if mode == "img2img" and strength == 0.0:
                images.append(vae_round_trip(pipe, job.control_image))  # nothing to denoise at strength 0
                continue

            done_before = progress_offset + start * num_inference_steps
            frames_label = f"frame {start + 1}" + (f"-{start + len(batch)}" if len(batch) > 1 else "")

            def on_step_end(
                _pipe, step, _timestep, callback_kwargs, done_before=done_before, label=frames_label, width=len(batch)
            ):
                done = done_before + (step + 1) * width
                if progress is not None:
                    progress(done, total, f"{label} of {len(jobs)}: step {step + 1}/{num_inference_steps}")
                if cancel is not None and cancel.is_set():
                    raise CancelledError(
                        f"Generation cancelled at step {step + 1} of {num_inference_steps} ({label}).",
                        "Start it again when ready.",
                    )
                return callback_kwargs

            started = time.perf_counter()
            device = self.loaded.device
            noise_device = "cpu" if device == "mps" else device  # MPS generators are not reproducible
            generators = [torch.Generator(device=noise_device).manual_seed(job.seed) for job in batch]
            with self._run_lock, torch.inference_mode(), _seeded_global_rng(torch, device, batch[0].seed, mode):
                output = pipe(
                    height=size_px,
                    width=size_px,
                    num_inference_steps=num_inference_steps,
                    guidance_scale=guidance_scale,
                    generator=generators,
                    output_type="np",
                    callback_on_step_end=on_step_end,
                    max_sequence_length=CLIMATE_MAX_SEQUENCE_LENGTH,
                    **kwargs,
                )
            timings["denoise_s"] += time.perf_counter() - started
            for frame in output.images:
                images.append((np.clip(frame, 0.0, 1.0) * 255.0).round().astype(np.uint8))
        return images, timings


@contextlib.contextmanager
def _seeded_global_rng(torch: Any, device: str, seed: int, mode: str):
    """Seed torch's global generator for one ControlNet call, then restore it.

    diffusers' SD3 ControlNet pipeline encodes the control image with `latent_dist.sample()` and no
    generator, i.e. from the global RNG: without this, the same seed and control image give
    different pixels each run (visible as soon as the ControlNet's control weights are non-zero).
    """
    if mode != "controlnet":
        yield
        return
    devices = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
