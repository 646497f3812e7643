"""The NDVI map of a multispectral result (COP-GEN), and none for an RGB-only one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from core.generation.runs import GenerationResult
from core.models.backends.base import Bands
from core.services import write_ndvi_preview
from tests.support.tiny_generation import tiny_generation_request


def _result(bands=None) -> GenerationResult:
    request = tiny_generation_request(seed=1)
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    made = GenerationResult(images=[image], prompts=request.prompts(), seed=1, model_id="tiny-copgen", timings_s={},
                            request=request, model_info={"model_id": "tiny-copgen"})  # fmt: skip
    return replace(made, bands=bands)


def test_ndvi_map_of_red_and_near_infrared_bands(tmp_path):
    red = np.full((16, 16), 0.05, dtype=np.float32)
    nir = np.full((16, 16), 0.45, dtype=np.float32)  # NDVI 0.8: dense vegetation, dark green
    path = write_ndvi_preview(_result(Bands({"B04": red, "B08": nir}, m_per_px=10.0)), tmp_path / "n.png")
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    greenish = (pixels[..., 1] > pixels[..., 0] + 40) & (pixels[..., 1] > pixels[..., 2] + 40)
    assert greenish.sum() > 1000  # the map area is green, not the white background


def test_no_ndvi_without_near_infrared(tmp_path):
    assert write_ndvi_preview(_result(), tmp_path / "n.png") is None
    only_red = Bands({"B04": np.zeros((8, 8), dtype=np.float32)}, m_per_px=10.0)
    assert write_ndvi_preview(_result(only_red), tmp_path / "m.png") is None
    assert not (tmp_path / "n.png").exists()
