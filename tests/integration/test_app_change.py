"""Issue 20 in the app, through gradio_client: Generate in mode Edit (today's climate = the real scene's VAE round
trip), the Change tab's `/change` (N seeds: change 0 under today's climate, > 0 under a scenario) and exports
signed with the operator's C2PA key. App in this process on `tiny-random`, data from the replay server."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from core import services
from core.services import verify_image
from tests.support.app_harness import running_app
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.4, "2020-02"
FORM = dict(
    lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, temp_c=20.0,
    precip_mm_day=0.5, solar_mj_m2_day=20.0, temp_delta_c=0.0, precip_pct=0.0, control_months_before=1,
    model_id="tiny-random", seed=3, steps=2, guidance=5.0, size_px=512,
)  # fmt: skip


@pytest.fixture(scope="module")
def stack(test_rasters, tmp_path_factory):
    """(settings, gradio client) of an app whose exports are signed with a test C2PA key."""
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    pytest.importorskip("c2pa")
    from gradio_client import Client

    from tests.support.c2pa_keys import write_test_signer

    server = start_replay_server(REAL, test_rasters)
    root = tmp_path_factory.mktemp("app-change")
    chain, key = write_test_signer(root / "keys")
    settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
    settings = settings.with_(c2pa_cert=str(chain), c2pa_key=str(key))
    try:
        with running_app(settings, "tiny-random", root / "outputs") as app:
            yield settings, Client(app.url, verbose=False, download_files=str(root / "downloads"))
    finally:
        server.stop()


def test_edit_under_todays_climate_is_the_real_scene_and_its_exports_are_signed(stack):
    settings, client = stack
    outputs = client.predict(**FORM, mode="edit", api_name="/generate")
    scenario_image, png, tif = outputs[0], outputs[5], outputs[6]
    generated = iio.imread(png)[..., :3].astype(int)
    # FlowEdit with equal prompts changes nothing: the VAE round trip of the real scene (img2img at strength 0)
    round_trip = services.generate(_request(settings, mode="img2img", strength=0.0), settings).image.astype(int)
    assert np.abs(generated - round_trip).max() <= 3
    assert scenario_image is not None
    for path in (png, tif):
        claims = verify_image(path)
        assert claims["manifest"] and claims["validation_state"] == "Valid"


def test_change_is_zero_under_todays_climate_and_not_under_a_scenario(stack):
    _, client = stack
    calm = client.predict(**FORM, mode="text", samples=2, api_name="/change")
    stats = json.loads(Path(calm[3]).read_text(encoding="utf-8"))
    assert stats["samples"] == 2 and stats["mean_abs_change"] == 0.0 and stats["agreement"] == 1.0
    assert "100% of the pixels" in calm[0] and "Greenness (ExG" in calm[0] and "change +0.000" in calm[0]
    hot = client.predict(**{**FORM, "temp_delta_c": 6.0, "precip_pct": -70.0}, mode="text", samples=3,
                         api_name="/change")  # fmt: skip
    stats = json.loads(Path(hot[3]).read_text(encoding="utf-8"))
    assert stats["samples"] == 3 and stats["mean_abs_change"] > 0 and stats["mean_spread"] > 0
    assert stats["agreement_sentence"].replace("**", "") in hot[0].replace("**", "")
    change_png, spread_png = iio.imread(hot[1]), iio.imread(hot[2])
    assert change_png.shape[0] > 100 and spread_png.shape[0] > 100  # figures with a legend


def test_too_many_samples_are_refused_in_one_line(stack):
    from gradio_client.exceptions import AppError

    _, client = stack
    # the slider's bounds refuse it before the handler (which would say "9 samples is not 2 to 8")
    with pytest.raises(AppError, match="maximum value 8"):
        client.predict(**FORM, mode="text", samples=9, api_name="/change")


def _request(settings, **mode):
    """The app's Generate form as the service request (today's climate), in another mode."""
    from core.geo import Month, Point

    return services.GenerationRequest(
        point=Point(LAT, LON), month=Month.parse(MONTH), land_cover=FORM["land_cover"], cloud_fraction=0.0,
        observed_climate=services.ClimateValues(20.0, 0.5, 20.0), seed=FORM["seed"], num_inference_steps=2,
        guidance_scale=5.0, size_px=512, model=services.ModelSpec("tiny-random"), **mode,
    ).with_place(settings)  # fmt: skip
