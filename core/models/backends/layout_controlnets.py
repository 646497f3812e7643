"""GeoSynth (SD 2.1-base ControlNets) and map-sat (SD 1.5 ControlNet): satellite images drawn over a layout.

Both are stock diffusers `ControlNetModel`s run with `StableDiffusionControlNetPipeline`. The layout
is the footprint centre's OpenStreetMap rendering at the zoom the model was trained on
(`core.sources.osm_tiles`), Canny edges of the real image, or a control image the caller gives.
map-sat reads no text beyond its fixed prompt.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from core.config import Settings
from core.errors import BadRequestError
from core.models.backends.base import ProgressCallback
from core.models.backends.registry import BackendInfo
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

# cv2.Canny's usual thresholds (GeoSynth-Canny's card uses OpenCV's Canny), on 0..255 intensities.
CANNY_LOW, CANNY_HIGH = 100.0, 200.0


def canny_edges(image: np.ndarray, size_px: int) -> np.ndarray:
    """White-on-black Canny edges of an RGB image, resized to size_px, as uint8 H x W x 3."""
    from PIL import Image
    from skimage.feature import canny

    if image.shape[:2] != (size_px, size_px):
        image = np.asarray(Image.fromarray(image).resize((size_px, size_px), Image.Resampling.LANCZOS))
    gray = np.asarray(Image.fromarray(image).convert("L"), dtype=np.float64)
    edges = canny(gray, sigma=1.0, low_threshold=CANNY_LOW, high_threshold=CANNY_HIGH)
    return np.repeat((edges.astype(np.uint8) * 255)[..., None], 3, axis=2)


class LayoutControlNetBackend(SDPipelineBackend):
    """A ControlNet generator over a layout image (GeoSynth-OSM / -Canny, map-sat)."""

    def __init__(self, info: BackendInfo, pipe, settings: Settings, origin: str = "") -> None:
        super().__init__(info, pipe, origin)
        self.settings = settings

    def layout_for(self, request: GenerationRequest) -> tuple[np.ndarray, dict]:
        """(control image, where it came from)."""
        kind = request.layout or ("image" if request.control_image is not None else self.uses.control)
        if kind == "image":
            from PIL import Image

            image = request.control_image
            if image.shape[:2] != (request.size_px, request.size_px):
                image = np.asarray(Image.fromarray(image).resize((request.size_px,) * 2, Image.Resampling.LANCZOS))
            return image, {"source": "given control image"}
        if kind == "canny":
            if request.reference_image is None:
                raise BadRequestError(
                    f"{self.backend_id} with a Canny layout needs the real image of the place.",
                    "Pass reference_image (the Sentinel-2 scene), or use the OSM layout.",
                )
            return canny_edges(request.reference_image, request.size_px), {
                "source": "canny edges of the real image",
                "thresholds": [CANNY_LOW, CANNY_HIGH],
            }
        if kind == "osm":
            from core.sources.osm_tiles import fetch_layout

            layout = fetch_layout(request.point, self.info.options["zoom"], request.size_px, self.settings)
            return layout.image, layout.to_metadata()
        raise BadRequestError(f"{self.backend_id} cannot use a {kind} layout.", "Use osm, canny or image.")

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        from PIL import Image

        prompt = self.info.options.get("prompt") or spatial_prompt(request)  # map-sat: a fixed prompt
        control, source = self.layout_for(request)
        image = self.sample(request, prompt, progress, cancel, image=Image.fromarray(control))
        warnings = []
        if "metres_per_pixel" in source:
            warnings.append(
                f"The OpenStreetMap layout is at zoom {source['zoom']} ({source['metres_per_pixel']:.2f} m/px, as the "
                f"model was trained), so the image covers a smaller area than the 10 m Sentinel-2 footprint."
            )
        return Drawn(image, prompt, {"layout": source}, control_image=control, warnings=tuple(warnings))


def build_tiny_controlnet_pipeline(seed: int = 0):
    """A tiny random SD + ControlNet pipeline (noise)."""
    from diffusers import StableDiffusionControlNetPipeline, UniPCMultistepScheduler

    from core.models.backends.tiny_unets import build_tiny_controlnet, build_tiny_sd_parts, build_tiny_unet

    unet = build_tiny_unet(seed + 3)
    return StableDiffusionControlNetPipeline(
        **build_tiny_sd_parts(seed),
        unet=unet,
        controlnet=build_tiny_controlnet(unet, seed + 4),
        scheduler=UniPCMultistepScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def load_layout_controlnet(info: BackendInfo, settings: Settings) -> LayoutControlNetBackend:
    """Load GeoSynth / map-sat: the ControlNet (Hub or checkpoints/) on its base model's mirror."""
    if info.is_tiny:
        return LayoutControlNetBackend(info, build_tiny_controlnet_pipeline(), settings)
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, UniPCMultistepScheduler

    from core.models.checkpoints import resolve_weights

    device, dtype = device_and_dtype(settings)
    found = resolve_weights(info.options["controlnet_repo"], settings, what="ControlNet", pipeline=False)
    try:
        controlnet = ControlNetModel.from_pretrained(found.path, dtype=dtype)
    except (OSError, ValueError, RuntimeError) as err:
        from core.errors import ModelUnavailableError

        raise ModelUnavailableError(
            f"The ControlNet at {found.path} could not be loaded: {str(err).splitlines()[0]}",
            "Download it again with `python -m core download`.",
        ) from err
    base = resolve_base(info.base_setting, settings)
    pipe = load_sd_pipeline(StableDiffusionControlNetPipeline, base, dtype, controlnet=controlnet)
    # GeoSynth-Canny's card and map-sat's README both sample with UniPC.
    pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config)
    return LayoutControlNetBackend(info, pipe.to(device), settings, origin=str(found.path))
