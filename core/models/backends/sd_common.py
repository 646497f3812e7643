"""What the Stable Diffusion 1.x/2.x-based backends share: the prompt, running a stock pipeline, loading a base."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Settings
from core.errors import ModelUnavailableError
from core.generation.prompts import build_prompts
from core.models.backends.base import (
    Backend,
    BackendResult,
    Bands,
    ProgressCallback,
    ignored_parts,
    step_callback,
    to_uint8,
)

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest


def spatial_prompt(request: GenerationRequest) -> str:
    """EcoMapper's spatial prompt (land cover, place, month, cloud) for a request with place names."""
    return build_prompts(request.prompt_inputs()).spatial


def run_pipeline(
    pipe,
    *,
    prompt: str,
    request: GenerationRequest,
    steps: int,
    guidance: float,
    label: str,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    lock: threading.Lock,
    **extra,
) -> np.ndarray:
    """One image from a stock diffusers SD pipeline, seeded on the CPU (same seed, same noise on any device)."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(request.seed)
    with lock, torch.inference_mode():
        output = pipe(
            prompt=prompt,
            negative_prompt="",
            height=request.size_px,
            width=request.size_px,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=generator,
            output_type="np",
            callback_on_step_end=step_callback(progress, cancel, steps, label),
            **extra,
        )
    return to_uint8(output.images[0])


class SDPipelineBackend(Backend):
    """A stock diffusers SD pipeline behind a lock (DiffusionSat, GeoSynth / map-sat, Text2Earth share this)."""

    def __init__(self, info, pipe, origin: str = "") -> None:
        self.info = info
        self.backend_id = info.backend_id
        self.uses = info.uses
        self.pipe = pipe
        self.origin = origin
        self._lock = threading.Lock()

    def sample(
        self,
        request: GenerationRequest,
        prompt: str,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        **extra,
    ) -> np.ndarray:
        """One image at the request's steps and guidance, else this backend's defaults."""
        steps = request.num_inference_steps or self.info.default_steps
        guidance = self.info.default_guidance if request.guidance_scale is None else request.guidance_scale
        return run_pipeline(
            self.pipe,
            prompt=prompt,
            request=request,
            steps=steps,
            guidance=guidance,
            label=self.backend_id,
            progress=progress,
            cancel=cancel,
            lock=self._lock,
            **extra,
        )

    def tiny_warnings(self) -> list[str]:
        """The noise warning of a tiny random variant, else none."""
        return [f"{self.backend_id} has random weights: it produces noise."] if self.info.is_tiny else []

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> BackendResult:
        """Place names resolved (for families that read text), the family's `draw`, then the common result."""
        started = time.perf_counter()
        if self.uses.text:
            request = request.with_place()
        drawn = self.draw(request, progress, cancel)
        return BackendResult(
            image=drawn.image,
            backend_id=self.backend_id,
            prompt=drawn.prompt,
            conditioning={**drawn.conditioning, "weights": self.origin},
            ignored=ignored_parts(request, self.uses),
            control_image=drawn.control_image,
            warnings=(*self.tiny_warnings(), *drawn.warnings),
            timings_s={"total_s": time.perf_counter() - started},
            bands=drawn.bands,
        )

    @abstractmethod
    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        """The family's own conditioning and sampling for one request (place names already resolved)."""


@dataclass(frozen=True)
class Drawn:
    """What a family's `draw` made: the image, its prompt and conditioning, a layout, what the user should know."""

    image: np.ndarray = field(repr=False)
    prompt: str
    conditioning: dict[str, Any]
    control_image: np.ndarray | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    bands: Bands | None = None


def device_and_dtype(settings: Settings):
    from core.models.device import choose_device, choose_dtype

    device = choose_device(settings.device)
    return device, choose_dtype(device, settings.dtype)


def resolve_base(repo_setting: str, settings: Settings) -> Path:
    """The base model folder of a peer generator (a maintained mirror; downloads unless offline)."""
    from core.models.checkpoints import resolve_weights

    repo = getattr(settings, repo_setting)
    return resolve_weights(repo, settings, what="base model", skip_parts=("safety_checker", "feature_extractor")).path


def load_sd_pipeline(cls, folder: Path, dtype, **components):
    """`cls.from_pretrained(folder)` without the safety checker, errors translated."""
    try:
        return cls.from_pretrained(
            folder,
            dtype=dtype,
            local_files_only=True,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
            **components,
        )
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise ModelUnavailableError(
            f"The model at {folder} could not be loaded: {str(err).splitlines()[0]}",
            "The folder may be incomplete: download it again with `python -m core download`.",
        ) from err
