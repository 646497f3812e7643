"""The evaluation harness's image source for the peer backends (DiffusionSat, GeoSynth, map-sat, Text2Earth,
COP-GEN, ZoomLDM, AeroGen).

`core.evaluation.run.evaluate` calls `generate(sample, control, seed)` per dataset sample; this
turns the sample's metadata into a `GenerationRequest` (`GenerationRequest.from_record`). Layout
backends never see the target image:
GeoSynth-Canny takes the edges of the earlier real month (`--controlnet-previous`), the OSM ones
their map tiles; ZoomLDM's reference image is the earlier real month too (`--controlnet-previous`).
"""

from __future__ import annotations

import numpy as np

from core.config import Settings
from core.errors import BadRequestError
from core.generation.request import GenerationRequest
from core.models.backends import backend_info, load_backend


class BackendSampleGenerator:
    """Generates evaluation samples with a backend loaded once per process.

    Args:
        config: the `core.evaluation.run.EvaluationConfig` (model id, steps, guidance, size).
        settings: paths, device, endpoints.
    """

    def __init__(self, config, settings: Settings) -> None:
        info = backend_info(config.model_id)
        if info.uses.control == "canny" and not config.controlnet_previous:
            raise BadRequestError(
                f"{config.model_id} draws over Canny edges; the target image's own edges would give it away.",
                "Run it with --controlnet-previous (edges of the real month 1-6 months earlier).",
            )
        if info.uses.reference and not config.controlnet_previous:
            # ZoomLDM makes variations of a real image: the target month's would give the answer away
            raise BadRequestError(
                f"{config.model_id} draws variations of a real image; the target image itself would give it away.",
                "Run it with --controlnet-previous (the real month 1-6 months earlier is its reference).",
            )
        if config.controlnet_previous and info.uses.control is None and not info.uses.reference:
            raise BadRequestError(
                f"--controlnet-previous needs a control-image backend; {config.model_id} reads none.",
                "Drop --controlnet-previous, or evaluate geosynth-canny / an SD3 ControlNet.",
            )
        self.config = config
        self.backend = load_backend(config.model_id, settings)
        self.label = config.model_id

    def generate(self, sample, control, seed: int) -> np.ndarray:
        request = GenerationRequest.from_record(
            sample.metadata,
            seed=seed,
            num_inference_steps=self.config.num_inference_steps,
            guidance_scale=self.config.guidance_scale,
            size_px=self.config.size_px,
            reference_image=control.image if control is not None else None,
        )
        return self.backend.generate(request).image
