"""DiffusionSat as a backend: text plus the metadata vector, v-prediction sampling with guidance.

The UNet (`DiffusionSatUNet`) comes from the published checkpoint (a `unet/` folder); the text
encoder, tokenizer, VAE and DDIM v-prediction scheduler from SD 2.1 (a maintained mirror,
`settings.sd21_repo`), unless the checkpoint folder is a whole pipeline. Guidance runs the
unconditional branch with an empty prompt and all-zero metadata, as DiffusionSat was trained.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Settings
from core.errors import ModelUnavailableError
from core.models.backends.base import ProgressCallback
from core.models.backends.metadata import normalise_metadata, unconditional_metadata
from core.models.backends.registry import BackendInfo, local_checkpoint
from core.models.backends.sd_common import (
    Drawn,
    SDPipelineBackend,
    device_and_dtype,
    load_sd_pipeline,
    resolve_base,
    spatial_prompt,
)

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest

TRAINED_ON = (
    "DiffusionSat was trained on fMoW, Satlas and SpaceNet imagery (sub-metre to a few metres per pixel), "
    "not on Sentinel-2: at {gsd:g} m/px it is outside its training range."
)


class DiffusionSatBackend(SDPipelineBackend):
    """A loaded DiffusionSat pipeline (`StableDiffusionPipeline` whose UNet is a `DiffusionSatUNet`)."""

    def __init__(self, info: BackendInfo, pipe, origin: str = "") -> None:
        super().__init__(info, pipe, origin)
        self.num_metadata = pipe.unet.config.num_metadata

    def metadata_for(self, request: GenerationRequest) -> list[float]:
        weather = self.num_metadata > 7
        return normalise_metadata(
            lon=request.point.lon,
            lat=request.point.lat,
            gsd_m=request.ground_m_per_px,
            cloud_fraction=request.cloud_fraction,
            year=request.month.year,
            month=request.month.month,
            # EcoMapper's weather model saw YYYY-MM dates, which its `get_metadata` reads as day 1
            day=1 if weather else request.day,
            climate=request.climate,
            with_weather=weather,
        )

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        import torch

        prompt = spatial_prompt(request)
        metadata = self.metadata_for(request)
        unet = self.pipe.unet
        cond = torch.tensor([metadata], dtype=torch.float32)
        uncond = torch.tensor([unconditional_metadata(self.num_metadata)], dtype=torch.float32)
        with unet.metadata_for_guidance(cond, uncond):
            image = self.sample(request, prompt, progress, cancel)
        conditioning = {
            "metadata": [round(v, 4) for v in metadata],
            "unconditional_metadata": "zeros",
            "gsd_m": request.ground_m_per_px,
            "prediction_type": self.pipe.scheduler.config.prediction_type,
        }
        return Drawn(image, prompt, conditioning, warnings=(TRAINED_ON.format(gsd=request.ground_m_per_px),))


def v_prediction_scheduler(config: dict | None = None):
    """DDIM with v-prediction (SD 2.1's scheduler, which DiffusionSat keeps)."""
    from diffusers import DDIMScheduler

    base = dict(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
        prediction_type="v_prediction",
    )
    return DDIMScheduler.from_config({**base, **(config or {}), "prediction_type": "v_prediction"})


def build_tiny_diffusionsat_pipeline(seed: int = 0, num_metadata: int = 7):
    """A tiny random DiffusionSat pipeline (noise), the real classes at toy size."""
    from diffusers import StableDiffusionPipeline

    from core.models.backends.diffusionsat_unet import DiffusionSatUNet
    from core.models.backends.tiny_unets import build_tiny_sd_parts, build_tiny_unet

    unet = build_tiny_unet(seed + 3, unet_class=DiffusionSatUNet, num_metadata=num_metadata)
    return StableDiffusionPipeline(
        **build_tiny_sd_parts(seed),
        unet=unet,
        scheduler=v_prediction_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def load_diffusionsat_unet(unet_dir: Path, dtype=None):
    """The published UNet folder, loaded strictly: any missing, unexpected or mis-shaped key is an error.

    Raises:
        ModelUnavailableError: the folder is not a DiffusionSat UNet, or its weights do not match.
    """
    from core.models.backends.diffusionsat_unet import DiffusionSatUNet

    config_file = unet_dir / "config.json"
    try:
        config = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ModelUnavailableError(f"Cannot read {config_file}: {err}", "Unzip the checkpoint again.") from err
    if not config.get("use_metadata", True) or "num_metadata" not in config:
        raise ModelUnavailableError(
            f"{unet_dir} is not a DiffusionSat UNet (its config has no num_metadata).",
            "Point at the unet/ folder of a DiffusionSat checkpoint.",
        )
    try:
        unet, info = DiffusionSatUNet.from_pretrained(
            unet_dir, dtype=dtype, output_loading_info=True, low_cpu_mem_usage=False
        )
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailableError(
            f"The DiffusionSat UNet at {unet_dir} could not be loaded: {str(err).splitlines()[0]}",
            "The checkpoint may be incomplete; download and unzip it again.",
        ) from err
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    if problems:
        summary = "; ".join(f"{k}: {len(v)} (e.g. {next(iter(v))})" for k, v in problems.items())
        raise ModelUnavailableError(
            f"The DiffusionSat UNet at {unet_dir} does not match the architecture: {summary}.",
            "Use a published DiffusionSat checkpoint (SD 2.1 UNet with metadata embeddings).",
        )
    return unet.eval()


def load_diffusionsat(info: BackendInfo, settings: Settings) -> DiffusionSatBackend:
    """Load a DiffusionSat backend (tiny: built in code; otherwise checkpoints/<id>/ plus the SD 2.1 mirror)."""
    if info.is_tiny:
        return DiffusionSatBackend(info, build_tiny_diffusionsat_pipeline(num_metadata=info.options["num_metadata"]))
    from diffusers import StableDiffusionPipeline

    folder = local_checkpoint(info.backend_id, settings)
    if folder is None:
        raise ModelUnavailableError(
            f"No {info.backend_id} checkpoint in {settings.checkpoints_dir / info.backend_id}.", info.how_to_get
        )
    device, dtype = device_and_dtype(settings)
    unet = load_diffusionsat_unet(folder / "unet", dtype)
    base = folder if (folder / "model_index.json").is_file() else resolve_base(info.base_setting, settings)
    scheduler_file = base / "scheduler" / "scheduler_config.json"
    scheduler_config = json.loads(scheduler_file.read_text()) if scheduler_file.is_file() else {}
    scheduler = v_prediction_scheduler({k: v for k, v in scheduler_config.items() if not k.startswith("_")})
    pipe = load_sd_pipeline(StableDiffusionPipeline, base, dtype, unet=unet, scheduler=scheduler).to(device)
    return DiffusionSatBackend(info, pipe, origin=str(folder))
