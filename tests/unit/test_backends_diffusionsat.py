"""DiffusionSat: published key names and shapes, strict loading of a published-layout folder, metadata."""

from __future__ import annotations

import json

import pytest
import torch

from core.climate.values import ClimateValues
from core.errors import BadRequestError, ModelUnavailableError
from core.models.backends.diffusionsat import load_diffusionsat_unet
from core.models.backends.diffusionsat_unet import DiffusionSatUNet
from core.models.backends.metadata import normalise_metadata, unconditional_metadata
from tests.conftest import SHARED_FIXTURES, require_shared
from tests.support.gen_diffusionsat_checkpoint import write_checkpoint

SD21_UNET_CONFIG = SHARED_FIXTURES / "hub-configs" / "stabilityai--stable-diffusion-2-1" / "unet" / "config.json"


def _published_metadata_keys(n: int, time_input: int, time_embed: int) -> dict[str, tuple[int, ...]]:
    # SatUNet: metadata_embedding = ModuleList(TimestepEmbedding(320, 1280) for _ in range(num_metadata))
    keys = {}
    for i in range(n):
        keys[f"metadata_embedding.{i}.linear_1.weight"] = (time_embed, time_input)
        keys[f"metadata_embedding.{i}.linear_1.bias"] = (time_embed,)
        keys[f"metadata_embedding.{i}.linear_2.weight"] = (time_embed, time_embed)
        keys[f"metadata_embedding.{i}.linear_2.bias"] = (time_embed,)
    return keys


@pytest.mark.parametrize("num_metadata", [7, 10])
def test_real_sd21_structure_has_the_published_keys(num_metadata):
    config = json.loads(require_shared(SD21_UNET_CONFIG).read_text())
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        stock = UNet2DConditionModel(**config)
        sat = DiffusionSatUNet(num_metadata=num_metadata, **config)
    expected = {k: tuple(v.shape) for k, v in stock.state_dict().items()}
    expected.update(_published_metadata_keys(num_metadata, 320, 1280))
    got = {k: tuple(v.shape) for k, v in sat.state_dict().items()}
    assert got == expected
    assert len(got) == 686 + 4 * num_metadata


def test_published_layout_loads_with_no_missing_or_unexpected_key(tmp_path):
    folder = write_checkpoint(tmp_path)
    unet = load_diffusionsat_unet(folder / "unet")
    assert isinstance(unet, DiffusionSatUNet)
    assert unet.config.num_metadata == 7
    _, info = DiffusionSatUNet.from_pretrained(folder / "unet", output_loading_info=True, low_cpu_mem_usage=False)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == [] and info["mismatched_keys"] == []
    saved = torch.load(folder / "unet" / "diffusion_pytorch_model.bin", weights_only=True)
    loaded = unet.state_dict()
    assert set(saved) == set(loaded)
    assert torch.equal(saved["metadata_embedding.6.linear_2.weight"], loaded["metadata_embedding.6.linear_2.weight"])


def test_a_checkpoint_missing_a_metadata_key_is_refused(tmp_path):
    folder = write_checkpoint(tmp_path, drop_key="metadata_embedding.3.linear_1.weight")
    with pytest.raises(ModelUnavailableError, match="missing_keys"):
        load_diffusionsat_unet(folder / "unet")


def test_a_plain_unet_folder_is_not_taken_for_diffusionsat(tmp_path):
    folder = write_checkpoint(tmp_path)
    config_file = folder / "unet" / "config.json"
    config = json.loads(config_file.read_text())
    del config["num_metadata"]
    config_file.write_text(json.dumps(config))
    with pytest.raises(ModelUnavailableError, match="not a DiffusionSat UNet"):
        load_diffusionsat_unet(folder / "unet")


def test_metadata_order_shift_and_normalisation():
    values = normalise_metadata(lon=-3.19, lat=55.95, gsd_m=10.0, cloud_fraction=0.25, year=2021, month=6, day=15)
    expected = [
        (-3.19 + 180) / 360 * 1000,
        (55.95 + 90) / 180 * 1000,
        10.0 * 1000,
        0.25 * 1000,
        (2021 - 1980) / 120 * 1000,
        6 / 12 * 1000,
        15 / 31 * 1000,
    ]
    assert values == pytest.approx(expected)
    # the shift comes before the division: the south-west corner of the world is 0
    corner = normalise_metadata(lon=-180, lat=-90, gsd_m=1.0, cloud_fraction=0.0, year=1980, month=1, day=1)
    assert corner[:2] == [0.0, 0.0] and corner[4] == 0.0


def test_unconditional_metadata_is_zeros():
    assert unconditional_metadata(7) == [0.0] * 7
    assert unconditional_metadata(10) == [0.0] * 10


def test_weather_variant_is_normalised_as_ecomapper_published_it_and_needs_a_climate():
    base = dict(lon=10.0, lat=20.0, gsd_m=10.0, cloud_fraction=0.0, year=2020, month=1, day=15)
    values = normalise_metadata(**base, climate=ClimateValues(25.0, 5.0, 20.0), with_weather=True)
    assert len(values) == 10
    # create_captions.py normalize_metadata: no lon/lat/year shift, GSD 20 / 10, (T + 60) / 120, P / 120, R / 40
    assert values[:3] == pytest.approx([10 / 360 * 1000, 20 / 180 * 1000, 2000.0])
    assert values[7:] == pytest.approx([85 / 120 * 1000, 5 / 120 * 1000, 500.0])
    with pytest.raises(BadRequestError, match="climate"):
        normalise_metadata(**base, with_weather=True)
    with pytest.raises(BadRequestError):
        normalise_metadata(**{**base, "lat": 95.0})


def _tiny_sat_unet():
    from core.models.backends.tiny_unets import build_tiny_unet

    return build_tiny_unet(0, unet_class=DiffusionSatUNet)


def test_metadata_changes_the_prediction_and_guidance_batches_uncond_first():
    unet = _tiny_sat_unet()
    torch.manual_seed(0)
    sample = torch.randn(1, 4, 8, 8)
    text = torch.randn(1, 77, 32)
    cond = torch.tensor([normalise_metadata(lon=1, lat=2, gsd_m=10, cloud_fraction=0.1, year=2020, month=3, day=4)])
    zeros = torch.zeros(1, 7)
    with torch.no_grad():
        out_cond = unet(sample, 10, text, metadata=cond).sample
        out_zero = unet(sample, 10, text, metadata=zeros).sample
        assert not torch.allclose(out_cond, out_zero)
        with unet.metadata_for_guidance(cond, zeros):
            both = unet(sample.repeat(2, 1, 1, 1), 10, text.repeat(2, 1, 1)).sample
            single = unet(sample, 10, text).sample
    torch.testing.assert_close(both[0:1], out_zero, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(both[1:2], out_cond, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(single, out_cond, atol=1e-5, rtol=1e-4)


def test_forward_without_metadata_fails_loudly():
    unet = _tiny_sat_unet()
    with pytest.raises(ValueError, match="needs metadata"):
        unet(torch.randn(1, 4, 8, 8), 10, torch.randn(1, 77, 32))
