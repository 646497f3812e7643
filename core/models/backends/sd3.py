"""The SD3 family (EcoMapper's method) as one backend: wraps the engine's `generate_images`."""

from __future__ import annotations

import threading
import time

from core.config import Settings
from core.models.backends.base import Backend, BackendRequest, BackendResult, ProgressCallback
from core.models.backends.registry import BackendInfo


class SD3Backend(Backend):
    """SD3 / SD3 + ControlNet through the existing engine (text embeddings cached across requests).

    A request's control image runs the ControlNet mode (an earlier real image of the place).
    """

    def __init__(self, info: BackendInfo, engine, settings: Settings) -> None:
        self.info = info
        self.backend_id = info.backend_id
        self.uses = info.uses
        self.engine = engine
        self.settings = settings

    def generate(
        self,
        request: BackendRequest,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> BackendResult:
        from PIL import Image

        from core.generation.request import GenerationRequest, generate_images

        started = time.perf_counter()
        size = request.size_px - request.size_px % 16  # SD3 needs multiples of 16
        control = request.control_image if request.layout in (None, "image") else None
        if control is not None and control.shape[:2] != (size, size):
            import numpy as np

            control = np.asarray(Image.fromarray(control).resize((size, size), Image.Resampling.LANCZOS))
        generation = GenerationRequest(
            point=request.point,
            month=request.month,
            land_cover=request.land_cover,
            cloud_fraction=request.cloud_fraction,
            **_climate_arguments(request),
            seed=request.seed,
            num_inference_steps=request.num_inference_steps or self.info.default_steps,
            guidance_scale=self.info.default_guidance if request.guidance_scale is None else request.guidance_scale,
            size_px=size,
            mode="controlnet" if control is not None else "text",
            control_image=control,
            state=request.state,
            country=request.country,
        )
        result = generate_images(generation, self.engine, self.settings, progress=progress, cancel=cancel)
        warnings = list(result.warnings)
        if self.info.is_tiny:
            warnings.insert(0, f"{self.backend_id} has random weights: it produces noise.")
        uses = self.uses if control is None else type(self.uses)(False, True, True, "image")
        return BackendResult(
            image=result.image,
            backend_id=self.backend_id,
            prompt=result.prompts.climate if self.engine.loaded.has_t5 else result.prompts.spatial,
            conditioning={"prompts": {"spatial": result.prompts.spatial, "climate": result.prompts.climate},
                          "mode": generation.mode, "model": result.model_info},
            ignored=request.ignored_by(uses),
            control_image=control,
            warnings=tuple(warnings),
            timings_s={**result.timings_s, "total_s": time.perf_counter() - started},
        )  # fmt: skip


def _climate_arguments(request: BackendRequest) -> dict:
    """The observed climate and scenario when the request has both (recorded in provenance), else the climate."""
    from core.climate.scenario import Scenario

    if request.observed_climate is not None and isinstance(request.scenario, Scenario):
        return {"observed_climate": request.observed_climate, "scenario": request.scenario}
    return {"climate": request.climate}


def load_sd3(info: BackendInfo, settings: Settings, model_spec=None) -> SD3Backend:
    """Load the SD3 engine for `info` (or for an explicit `core.models.ModelSpec`, e.g. with a LoRA)."""
    from core.models import ModelSpec
    from core.models.engine import Engine

    spec = model_spec or ModelSpec(info.backend_id)
    return SD3Backend(info, Engine.load(spec, settings), settings)
