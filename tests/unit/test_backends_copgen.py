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


def test_an_original_autoencoder_file_converts_key_for_key(tmp_path):
    import torch
    from diffusers import AutoencoderKL

    from core.models.backends.copgen import autoencoder_config, load_ldm_autoencoder
    from tests.support.ldm_state_dicts import ldm_vq_shapes, random_state

    s2 = next(m for m in COPGEN_BASE_MODALITIES if m.name == S2L2A_RGBN)
    with torch.device("meta"):
        published = AutoencoderKL(**autoencoder_config(s2))
    original = ldm_vq_shapes(ch=128, ch_mult=(1, 2, 4, 4), z_channels=8, n_embed=0, in_ch=4, kl=True)
    count = sum(p.numel() for p in published.parameters())
    assert count == sum(math.prod(shape) for shape in original.values()) and round(count / 1e6, 1) == 83.7
    # a narrow autoencoder in the original layout, saved as COP-GEN saves it, loads strictly
    narrow = random_state(ldm_vq_shapes(ch=32, ch_mult=(1, 1, 1, 1), z_channels=8, n_embed=0, in_ch=4, kl=True))
    torch.save(narrow, tmp_path / "model-50-ema.pth")
    vae = load_ldm_autoencoder(tmp_path / "model-50-ema.pth", s2, block_out_channels=(32,) * 4)
    assert torch.equal(vae.decoder.conv_out.weight, narrow["decoder.conv_out.weight"])
    assert torch.equal(
        vae.encoder.down_blocks[1].resnets[0].conv1.weight, narrow["encoder.down.1.block.0.conv1.weight"]
    )
    assert vae.config.scaling_factor == s2.scale_factor
    with pytest.raises(ModelUnavailableError, match="does not fit S2L2A_B02_B03_B04_B08"):
        load_ldm_autoencoder(tmp_path / "model-50-ema.pth", s2, block_out_channels=(64,) * 4)


def test_download_puts_the_original_files_where_the_loader_looks(settings, monkeypatch):
    import huggingface_hub

    from core.models.backends.download import download_backend

    fetched: list[tuple[str, tuple]] = []

    def fake_snapshot(repo, allow_patterns, local_dir, **_):
        fetched.append((repo, tuple(allow_patterns)))
        if repo.endswith("copgen-base"):
            (local_dir / "500000_nnet_ema.pth").parent.mkdir(parents=True, exist_ok=True)
            (local_dir / "500000_nnet_ema.pth").write_bytes(b"x")
        else:
            for name in ("LULC_192x192_LULC", "S2L1C_192x192_cloud_mask", "S2L2A_192x192_B4_3_2_8"):
                (local_dir / "models" / "vae" / f"{name}_latent_8").mkdir(parents=True, exist_ok=True)
                (local_dir / "models" / "vae" / f"{name}_latent_8" / "model-50-ema.pth").write_bytes(b"x")
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    assert not check_available("copgen", settings).available
    found = download_backend("copgen", settings)
    assert [repo for repo, _ in fetched] == ["mespinosami/copgen-base", "mespinosami/copgen-vaes"]
    assert set(found) == {"mespinosami/copgen-base", "mespinosami/copgen-vaes"}
    status = check_available("copgen", settings)
    assert status.available and status.detail.endswith("500000_nnet_ema.pth")
    with pytest.raises(ModelUnavailableError, match="offline mode is on"):
        download_backend("copgen", settings.with_(offline=True))
