"""COP-GEN: the real U-ViT's size from its config, its input encodings, the tiny variant and the band files."""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
import pytest

from core.errors import ModelUnavailableError
from core.generation.request import GenerationRequest
from core.geo import Point
from core.models.backends import check_available, load_backend
from core.models.backends.copgen import (
    COPGEN_BASE_MODALITIES,
    COPGEN_BASE_NET,
    IGBP_TO_ESRI,
    S2L2A_RGBN,
    encode_date,
    encode_lat_lon,
)
from core.sources.land_cover_classes import LAND_COVER_CLASSES
from tests.conftest import SHARED_FIXTURES, require_shared

COPGEN_CONFIG = SHARED_FIXTURES / "hub-configs" / "miquel-espinosa--COP-GEN" / "cop_gen_base.py"
SAHARA = Point(24.8, -11.4)


def _request(**changes) -> GenerationRequest:
    fields = dict(
        point=SAHARA,
        month="2020-02",
        land_cover="Barren or Sparsely Vegetated",
        size_px=64,
        num_inference_steps=2,
        seed=1,
        country="Morocco",
    )
    return GenerationRequest(**{**fields, **changes})


@pytest.fixture(scope="module")
def tiny():
    from core.config import Settings

    return load_backend("tiny-copgen", Settings())


def test_the_real_uvit_has_the_published_size_and_token_count():
    import torch

    from core.models.backends.copgen_uvit import CopGenUViT

    with torch.device("meta"):
        nnet = CopGenUViT(COPGEN_BASE_MODALITIES, **COPGEN_BASE_NET)
    assert sum(p.numel() for p in nnet.parameters()) == 286_986_562
    assert nnet.num_tokens == 834  # 12 timestep tokens + 816 image patches + 2 x 3 scalars
    assert len(nnet.in_blocks) == len(nnet.out_blocks) == 10


def test_the_modality_table_is_the_configs_in_its_sorted_order():
    text = require_shared(COPGEN_CONFIG).read_text()
    names = re.findall(r'^\s+"([0-9A-Za-z_]+)": d\(', text, flags=re.MULTILINE)
    # ml_collections sorts the keys: the token order follows the sorted names, not the file's order
    assert [m.name for m in COPGEN_BASE_MODALITIES] == sorted(names)
    assert names != sorted(names)
    for modality in COPGEN_BASE_MODALITIES:
        if modality.kind == "image":
            block = text[text.index(f'"{modality.name}": d(') :].split("\n        ),", 1)[0]
            assert f"scale_factor={modality.scale_factor}," in block
            assert f"latent_input_resolution=({modality.latent_px}, {modality.latent_px})" in block
            assert f"img_bands={modality.img_bands}," in block
    s2 = next(m for m in COPGEN_BASE_MODALITIES if m.name == S2L2A_RGBN)
    assert s2.bands == ("B04", "B03", "B02", "B08") and (s2.img_px, s2.latent_px) == (192, 24)


def test_point_and_date_encodings():
    np.testing.assert_allclose(encode_lat_lon(0.0, 0.0), [1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(encode_lat_lon(90.0, 10.0), [0.0, 0.0, 1.0], atol=1e-7)
    x, y, z = encode_lat_lon(24.8, -11.4)
    assert math.degrees(math.asin(z)) == pytest.approx(24.8, abs=1e-4)
    assert math.degrees(math.atan2(y, x)) == pytest.approx(-11.4, abs=1e-4)
    sin_d, cos_d, year = encode_date(date(2000, 12, 31))  # day 366 of a leap year: a full turn
    assert (sin_d, cos_d) == pytest.approx((0.0, 1.0), abs=1e-6) and year == pytest.approx(0.0)
    assert encode_date(date(2050, 4, 1))[2] == pytest.approx(1.0)


def test_every_ecomapper_class_maps_to_an_esri_class():
    assert set(IGBP_TO_ESRI) == set(LAND_COVER_CLASSES)
    assert IGBP_TO_ESRI["Croplands"] == 5 and IGBP_TO_ESRI["Urban and Built-up Lands"] == 7
    assert IGBP_TO_ESRI["Barren or Sparsely Vegetated"] == 8


def test_tiny_copgen_makes_seeded_bands_and_an_rgb_preview(tiny):
    first = tiny.generate(_request())
    again = tiny.generate(_request())
    assert first.bands.names == ("B04", "B03", "B02", "B08") and first.bands.m_per_px == 10.0
    assert first.image.shape == (32, 32, 3) and first.bands.size_px == 32
    np.testing.assert_array_equal(first.bands.arrays["B08"], again.bands.arrays["B08"])
    assert all(a.dtype == np.float32 and a.min() >= 0.0 and a.max() <= 1.0 for a in first.bands.arrays.values())
    # the preview is B04/B03/B02 stretched from reflectance 0..0.3
    expected = (np.clip(first.bands.arrays["B04"] / 0.3, 0, 1) * 255).round().astype(np.uint8)
    np.testing.assert_array_equal(first.image[..., 0], expected)
    assert first.ignored == ("place names (no text prompt)",)
    assert any("random weights" in w for w in first.warnings) and any("10 m" in w for w in first.warnings)
    other_seed = tiny.generate(_request(seed=2))
    assert not np.array_equal(other_seed.bands.arrays["B04"], first.bands.arrays["B04"])


def test_land_cover_point_and_month_reach_the_network_as_clean_conditions(tiny, monkeypatch):
    base = tiny.generate(_request()).bands.arrays["B04"]
    for change in ({"land_cover": "Croplands"}, {"month": "2020-08"}, {"point": Point(-1.5, 36.8)}):
        assert not np.array_equal(tiny.generate(_request(**change)).bands.arrays["B04"], base), change
    seen: list[list[int]] = []
    nnet = tiny.pipe.nnet
    original = nnet.forward

    def record(latents, timesteps):
        seen.append([int(t[0]) for t in timesteps])
        return original(latents, timesteps)

    monkeypatch.setattr(nnet, "forward", record)
    tiny.generate(_request(cloud_fraction=0.4))
    names = [m.name for m in tiny.pipe.modalities]
    conditions = {"3d_cartesian_lat_lon", "LULC_LULC", "mean_timestamps"}
    for times in seen:
        assert {n for n, t in zip(names, times, strict=True) if t == 0} == conditions
    # generated modalities run on the schedule's timesteps + 1 (the original's discrete-time convention)
    assert seen[0][names.index(S2L2A_RGBN)] == int(tiny.pipe.scheduler.timesteps[0]) + 1
    seen.clear()
    tiny.generate(_request(cloud_fraction=0.0))  # a cloud-free request also fixes a clear cloud mask
    assert sum(t == 0 for t in seen[0]) == 4


def test_missing_weights_are_refused_in_one_line(settings):
    status = check_available("copgen", settings)
    assert not status.available and "python -m core download --model copgen" in status.detail
    assert "\n" not in status.detail
    with pytest.raises(ModelUnavailableError, match="No COP-GEN nnet_ema.pth"):
        load_backend("copgen", settings)


def test_a_result_with_bands_exports_a_band_geotiff_and_ndvi(tiny, settings, tmp_path):
    import rasterio

    from core.models.spec import ModelSpec
    from core.services import export_image, generate

    result = generate(_request(model=ModelSpec("tiny-copgen")), settings, engine=tiny)
    assert result.result.bands.names == ("B04", "B03", "B02", "B08")
    files = export_image(result, tmp_path / "c.png", recipe=tmp_path / "c.recipe.json")
    assert files.geotiff == tmp_path / "c.bands.tif" and files.ndvi == tmp_path / "c.ndvi.tif"
    arrays = result.result.bands.arrays
    with rasterio.open(files.geotiff) as src:
        assert src.count == 4 and src.descriptions == ("B04", "B03", "B02", "B08")
        assert src.dtypes[0] == "float32" and src.res == (10.0, 10.0) and src.crs.to_string() == "EPSG:32629"
        np.testing.assert_array_equal(src.read(4), arrays["B08"])
        assert src.tags()["unit"] == "reflectance" and src.tags()["model"] == "tiny-copgen"
    with rasterio.open(files.ndvi) as src:
        assert src.count == 1 and src.descriptions == ("NDVI",)
        red, nir = arrays["B04"].astype(np.float64), arrays["B08"].astype(np.float64)
        with np.errstate(invalid="ignore"):  # both bands 0 (clipped): NaN in the file too
            expected = (nir - red) / (nir + red)
        np.testing.assert_allclose(src.read(1), expected, rtol=1e-5)
