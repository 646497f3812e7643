"""ZoomLDM as a backend: variations of the real scene of the month, conditioned on its DINOv2 features.

ZoomLDM (CVPR 2025, code MIT; Hub StonyBrook-CVLab/ZoomLDM, naip/weights.ckpt) is a latent diffusion
model on a VQ-f4 autoencoder. Its condition is a grid of DINOv2 ViT-L/14 (with registers) features,
one 1024-d vector per 256 px base patch (1x1, 2x2, 4x4 or 8x8 patches for zoom levels 0..3), each
standardised over its channels, summarised by a 12-layer ViT into a [B, 65, 512] context (64 feature
tokens, centred and padded with a learned token, plus one zoom-level token). It samples with
classifier-free guidance 2 against an all-zero context, PLMS 50 steps, ε-prediction on LDM's
"linear" (square-root spaced) β schedule 0.0015..0.0195. Here the UNet and the VQ model are stock
diffusers classes (`UNet2DConditionModel`, `VQModel`); the summarizer is plain torch with the
original's parameter names; the published checkpoint is converted by `convert_zoomldm_checkpoint`.
Large-Image-Diffusion (one 768-d embedding) is the single-level case of the same UNet and VQ model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.models.backends.base import ProgressCallback, step_callback, to_uint8
from core.models.backends.sd_common import Drawn, SDPipelineBackend, device_and_dtype

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest
    from core.models.backends.registry import BackendInfo

from core.models.backends.zoomldm_net import (
    BASE_PATCH_PX,
    IMAGENET_MEAN,
    IMAGENET_STD,
    SCHEDULE,
    build_summarizer,
)


def feature_grid(image: np.ndarray, zoom_level: int, dino) -> Any:
    """DINOv2 features of `image` on a 2^level x 2^level grid (one per cell), standardised per cell.

    Each cell stands for a 256 px base patch: it is resized to DINOv2's input size, normalised with
    ImageNet statistics, and its pooled class token (1024-d for ViT-L) is kept.
    """
    import torch
    from PIL import Image

    side = 2**zoom_level
    input_px = dino.config.image_size
    cell = image.shape[0] // side
    crops = []
    for row in range(side):
        for col in range(side):
            tile = Image.fromarray(image[row * cell : (row + 1) * cell, col * cell : (col + 1) * cell])
            pixels = np.asarray(tile.resize((input_px, input_px), Image.Resampling.BICUBIC), np.float32) / 255.0
            crops.append((pixels - IMAGENET_MEAN) / IMAGENET_STD)
    batch = torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32))
    with torch.inference_mode():
        features = dino(pixel_values=batch.to(dino.device, dino.dtype)).pooler_output.float().cpu()
    grid = features.T.reshape(-1, side, side)  # [C, h, w], row-major cells
    mean, std = grid.mean(dim=0, keepdim=True), grid.std(dim=0, keepdim=True)
    return (grid - mean) / (std + 1e-8)


@dataclass
class ZoomLDMParts:
    unet: Any
    vq: Any
    summarizer: Any
    dino: Any
    scheduler: Any
    device: Any = "cpu"
    dtype: Any = None


class ZoomLDMBackend(SDPipelineBackend):
    """ZoomLDM: a new image of the place from the DINOv2 features of its real scene (no text, no climate)."""

    def context(self, request: GenerationRequest):
        """(conditional, all-zero unconditional) contexts from the real image of the month."""
        import torch

        if request.reference_image is None:
            raise BadRequestError(
                f"{self.backend_id} needs the real image of the place and month.",
                "Give reference_image (the Sentinel-2 scene); `generate` fetches it for the request's month.",
            )
        parts: ZoomLDMParts = self.pipe
        level = self.info.options["zoom_level"]
        grid = feature_grid(request.reference_image, level, parts.dino)
        with torch.inference_mode():
            cond = parts.summarizer([grid.to(parts.device)], torch.tensor([level], device=parts.device))
        return cond.to(parts.dtype), torch.zeros_like(cond).to(parts.dtype)

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        import torch

        parts: ZoomLDMParts = self.pipe
        cond, uncond = self.context(request)
        steps = request.num_inference_steps or self.info.default_steps
        guidance = self.info.default_guidance if request.guidance_scale is None else request.guidance_scale
        generator = torch.Generator(device="cpu").manual_seed(request.seed)
        size = parts.unet.config.sample_size
        latents = torch.randn((1, parts.unet.config.in_channels, size, size), generator=generator)
        latents = latents.to(parts.device, parts.dtype)
        scheduler = parts.scheduler
        scheduler.set_timesteps(steps)
        report = step_callback(progress, cancel, steps, self.backend_id)
        with self._lock, torch.inference_mode():
            for index, t in enumerate(scheduler.timesteps):
                both = parts.unet(torch.cat([latents] * 2), t, encoder_hidden_states=torch.cat([uncond, cond])).sample
                eps_uncond, eps_cond = both.chunk(2)
                eps = eps_uncond + guidance * (eps_cond - eps_uncond)
                latents = scheduler.step(eps, t, latents).prev_sample
                report(None, index, t, {})
            pixels = parts.vq.decode(latents).sample[0]
        image = to_uint8(((pixels.float().cpu().numpy() + 1.0) / 2.0).transpose(1, 2, 0))
        level = self.info.options["zoom_level"]
        conditioning = {
            "zoom_level": level,
            "feature_grid": f"{2**level} x {2**level}",
            "guidance_scale": guidance,
            "unconditional_context": "zeros",
        }
        warnings = (
            f"ZoomLDM (NAIP) was trained on ~1 m aerial images; at zoom level {level} its {image.shape[0]} px "
            f"image stands for {2**level * BASE_PATCH_PX} px of that resolution, drawn here from the features "
            f"of a {request.ground_m_per_px * request.reference_image.shape[0] / 1000:g} km Sentinel-2 scene.",
        )
        return Drawn(image, "", conditioning, warnings=warnings)


def build_scheduler():
    """PLMS (diffusers' PNDM without Runge-Kutta warm-up) on LDM's linear schedule, ε-prediction."""
    from diffusers import PNDMScheduler

    return PNDMScheduler(**SCHEDULE, skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1)


def build_tiny_dino(seed: int = 0):
    import torch
    from transformers import Dinov2WithRegistersConfig, Dinov2WithRegistersModel

    torch.manual_seed(seed)
    config = Dinov2WithRegistersConfig(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, image_size=28,
        patch_size=14, num_register_tokens=4,
    )  # fmt: skip
    return Dinov2WithRegistersModel(config).eval()


def build_tiny_zoomldm_parts(seed: int = 0) -> ZoomLDMParts:
    """A tiny random ZoomLDM (noise): the real classes at toy size (32 px out of an 8 x 8 latent)."""
    import torch
    from diffusers import UNet2DConditionModel, VQModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(16, 32), cross_attention_dim=16, norm_num_groups=8,
    ).eval()  # fmt: skip
    vq = VQModel(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=(8, 8, 8), layers_per_block=1,
        latent_channels=3, num_vq_embeddings=256, vq_embed_dim=3, norm_num_groups=4, sample_size=32,
    ).eval()  # fmt: skip
    # random init leaves the cross-attention's effect tiny (and the VQ codes then hide it): give the
    # context a visible say, as the tiny ControlNet's zero convolutions are randomised (tests check it)
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if ".attn2." in name or ".proj_out." in name:
                param.normal_(0.0, 1.0)
        vq.quantize.embedding.weight.normal_(0.0, 1.0)  # the default init puts every code near 0: one colour out
    summarizer = build_summarizer(input_channels=16, hidden_channels=16, mlp_dim=32, num_layers=2, num_heads=2,
                                  output_channels=16, zoom_levels=4).eval()  # fmt: skip
    return ZoomLDMParts(unet, vq, summarizer, build_tiny_dino(seed + 1), build_scheduler(), dtype=torch.float32)


def load_zoomldm(info: BackendInfo, settings: Settings) -> ZoomLDMBackend:
    """ZoomLDM from checkpoints/zoomldm/ (converted diffusers folders; tiny: built in code)."""
    if info.is_tiny:
        return ZoomLDMBackend(info, build_tiny_zoomldm_parts())
    from core.models.backends.zoomldm_convert import load_converted

    folder = settings.checkpoints_dir / info.backend_id
    device, dtype = device_and_dtype(settings)
    try:
        unet, vq, summarizer, dino = load_converted(folder, settings)
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailableError(
            f"ZoomLDM could not be loaded from {folder}: {str(err).splitlines()[0]}", info.how_to_get
        ) from err
    parts = ZoomLDMParts(unet.to(device, dtype), vq.to(device, dtype), summarizer.to(device), dino.to(device),
                         build_scheduler(), device, dtype)  # fmt: skip
    return ZoomLDMBackend(info, parts, origin=str(folder))
