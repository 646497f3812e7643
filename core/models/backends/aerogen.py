"""AeroGen as a backend: SD 1.5 drawing objects inside a box layout (DIOR-R classes, rotated boxes).

The architecture (`aerogen_unet`) is written from AeroGen's paper and published facts: its code
repository has no licence file, so no code of it is used here, and its weights (Hub
Sonetto702/AeroGen, ~9.5 GB) are the user's own download, of unstated licence. The layout is the
request's `boxes` (`python -m core generate --layout-json boxes.json`); the prompt is EcoMapper's
spatial prompt; sampling is DDIM (eta 0.2) with guidance 7.5, the layout given to both branches.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.models.backends.aerogen_convert import BOX_ENCODER_FILE
from core.models.backends.base import ProgressCallback
from core.models.backends.registry import BackendInfo
from core.models.backends.sd_common import Drawn, SDPipelineBackend, device_and_dtype, load_sd_pipeline, spatial_prompt

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest, LayoutBox

# DIOR-R's 20 object classes, as the dataset names them.
DIOR_R_CLASSES = (
    "airplane", "airport", "baseballfield", "basketballcourt", "bridge", "chimney", "dam",
    "Expressway-Service-area", "Expressway-toll-station", "golffield", "groundtrackfield", "harbor", "overpass",
    "ship", "stadium", "storagetank", "tenniscourt", "trainstation", "vehicle", "windmill",
)  # fmt: skip
SLOTS = 20
DDIM_ETA = 0.2


def check_labels(boxes: tuple[LayoutBox, ...]) -> None:
    """Every box names a DIOR-R class (case-insensitive)."""
    known = {name.lower() for name in DIOR_R_CLASSES}
    unknown = sorted({box.label for box in boxes if box.label.lower() not in known})
    if unknown:
        raise BadRequestError(
            f"AeroGen does not know the class(es) {', '.join(unknown)}.",
            f"Use DIOR-R classes: {', '.join(DIOR_R_CLASSES)}.",
        )


def polygon_masks(boxes: tuple[LayoutBox, ...], size_px: int) -> np.ndarray:
    """[SLOTS, size, size] 0/1 masks of the boxes' polygons (empty slots all 0)."""
    from PIL import Image, ImageDraw

    masks = np.zeros((SLOTS, size_px, size_px), np.float32)
    for index, box in enumerate(boxes):
        canvas = Image.new("L", (size_px, size_px), 0)
        points = [(box.corners[i] * size_px, box.corners[i + 1] * size_px) for i in range(0, 8, 2)]
        ImageDraw.Draw(canvas).polygon(points, fill=1)
        masks[index] = np.asarray(canvas, np.float32)
    return masks


def layout_image(boxes: tuple[LayoutBox, ...], size_px: int) -> np.ndarray:
    """The layout drawn as outlines on black (shown beside the result)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (size_px, size_px), (0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for box in boxes:
        points = [(box.corners[i] * (size_px - 1), box.corners[i + 1] * (size_px - 1)) for i in range(0, 8, 2)]
        draw.polygon(points, outline=(255, 255, 255))
        draw.text(points[0], box.label, fill=(255, 255, 0))
    return np.asarray(canvas)


@dataclass
class AeroGenParts:
    pipe: Any
    box_encoder: Any


class AeroGenBackend(SDPipelineBackend):
    """AeroGen: text plus a box layout (no climate)."""

    def __init__(self, info: BackendInfo, parts: AeroGenParts, origin: str = "") -> None:
        super().__init__(info, parts.pipe, origin)
        self.box_encoder = parts.box_encoder

    def layout_tensors(self, request: GenerationRequest):
        """The request's boxes as the UNet reads them (box tokens, class embeddings, latent-size masks)."""
        import torch

        from core.models.backends.aerogen_unet import MASK_UNITS, LayoutTensors

        boxes = request.boxes
        check_labels(boxes)
        pipe = self.pipe
        device = pipe.unet.device
        text_dim = self.box_encoder.null_positive_feature.shape[0]
        text = torch.zeros(1, SLOTS, text_dim)
        if boxes:
            ids = pipe.tokenizer([b.label for b in boxes], padding="max_length", truncation=True,
                                 max_length=pipe.tokenizer.model_max_length, return_tensors="pt").input_ids  # fmt: skip
            with torch.inference_mode():
                text[0, : len(boxes)] = pipe.text_encoder(ids.to(device)).pooler_output.float().cpu()
        corners = torch.zeros(1, SLOTS, 8)
        present = torch.zeros(1, SLOTS)
        for index, box in enumerate(boxes):
            corners[0, index] = torch.tensor(box.corners) * MASK_UNITS
            present[0, index] = 1.0
        weight = self.box_encoder.null_positive_feature
        with torch.inference_mode():
            tokens = self.box_encoder(*(t.to(weight.device, weight.dtype) for t in (corners, text, present)))
        latent_px = request.size_px // pipe.vae_scale_factor
        masks = torch.from_numpy(polygon_masks(boxes, latent_px))[None]
        dtype = pipe.unet.dtype
        return LayoutTensors(tokens.to(device, dtype), text.to(device, dtype), masks.to(device, dtype))

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        prompt = spatial_prompt(request)
        layout = self.layout_tensors(request)
        with self.pipe.unet.layout_for_guidance(layout, layout):
            image = self.sample(request, prompt, progress, cancel, eta=DDIM_ETA)
        conditioning = {
            "boxes": [box.as_dict() for box in request.boxes],
            "unconditional_layout": "the same layout (guidance is on the text)",
            "ddim_eta": DDIM_ETA,
        }
        warnings = ["AeroGen was trained on DIOR-R (Google Earth, 0.5 to 30 m per pixel); its code and weights carry "
                    "no licence."]  # fmt: skip
        if not request.boxes:
            warnings.append("No boxes were given: AeroGen draws from the text alone (--layout-json adds objects).")
        control = layout_image(request.boxes, request.size_px)
        return Drawn(image, prompt, conditioning, control_image=control, warnings=tuple(warnings))


def build_tiny_aerogen_parts(seed: int = 0) -> AeroGenParts:
    """A tiny random AeroGen (noise): the real classes at toy size."""
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline

    from core.models.backends.aerogen_unet import AeroGenUNet, BoxEncoder
    from core.models.backends.tiny_unets import CROSS_ATTENTION_DIM, build_tiny_sd_parts, build_tiny_unet

    unet = build_tiny_unet(seed + 3, unet_class=AeroGenUNet, mask_inner_dim=16, mask_heads=2)
    pipe = StableDiffusionPipeline(
        **build_tiny_sd_parts(seed), unet=unet, scheduler=DDIMScheduler(steps_offset=1, clip_sample=False),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    torch.manual_seed(seed + 5)
    encoder = BoxEncoder(text_dim=CROSS_ATTENTION_DIM, out_dim=CROSS_ATTENTION_DIM, hidden=32).eval()
    return AeroGenParts(pipe, encoder)


def load_aerogen(info: BackendInfo, settings: Settings) -> AeroGenBackend:
    """AeroGen from checkpoints/aerogen/ (unet/ + box_encoder.safetensors) on the SD 1.5 mirror."""
    if info.is_tiny:
        return AeroGenBackend(info, build_tiny_aerogen_parts())
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from safetensors.torch import load_file

    from core.models.backends.aerogen_unet import AeroGenUNet, BoxEncoder
    from core.models.backends.sd_common import resolve_base

    folder = settings.checkpoints_dir / info.backend_id
    converted = (folder / "unet" / "config.json").is_file() and (folder / BOX_ENCODER_FILE).is_file()
    ckpts = sorted(folder.glob("*.ckpt")) if not converted else []
    if ckpts:  # the user's own download of the published checkpoint: converted once, in place
        from core.models.backends.aerogen_convert import write_converted_aerogen

        write_converted_aerogen(ckpts[-1], folder)
    elif not converted:
        raise ModelUnavailableError(f"No AeroGen unet/ and {BOX_ENCODER_FILE} in {folder}.", info.how_to_get)
    device, dtype = device_and_dtype(settings)
    try:
        unet = AeroGenUNet.from_pretrained(folder / "unet", dtype=dtype)
        encoder = BoxEncoder()
        encoder.load_state_dict(load_file(str(folder / BOX_ENCODER_FILE)), strict=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailableError(f"AeroGen at {folder} could not be loaded: {str(err).splitlines()[0]}",
                                    info.how_to_get) from err  # fmt: skip
    base = resolve_base(info.base_setting, settings)
    pipe = load_sd_pipeline(StableDiffusionPipeline, base, dtype, unet=unet)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    return AeroGenBackend(info, AeroGenParts(pipe.to(device), encoder.to(device, dtype).eval()), origin=str(folder))
