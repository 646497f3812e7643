"""The app's named endpoints through gradio_client, with the app launched in this process on
`tiny-random` and every data endpoint on the local replay server (real STAC item and Sentinel-2
COG of the western Sahara, real NASA POWER recording)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tests.support.app_harness import running_app
from tests.support.replay_fixtures import REAL, SAHARA_ITEM_ID, settings_for, start_replay_server

pytestmark = [
    pytest.mark.slow,
    # gradio's queue uses pandas options that pandas 3 deprecates; not ours to fix
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.4, "2020-02"
FAST = {"seed": 7, "steps": 2, "guidance": 5.0, "size_px": 512, "model_id": "tiny-random"}


@pytest.fixture(scope="module")
def stack(test_rasters, tmp_path_factory):
    """(replay server, settings, running app, gradio client) shared by the tests of this module."""
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    from gradio_client import Client

    server = start_replay_server(REAL, test_rasters)
    root = tmp_path_factory.mktemp("app-api")
    settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
    try:
        with running_app(settings, "tiny-random", root / "outputs") as app:
            client = Client(app.url, verbose=False, download_files=str(root / "downloads"))
            yield server, settings, app, client
    finally:
        server.stop()


def _observe(client):
    return client.predict(lat=LAT, lon=LON, month=MONTH, api_name="/observe")


def _generate(client, **changes):
    values = dict(
        lat=LAT,
        lon=LON,
        month=MONTH,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        temp_c=20.0,
        precip_mm_day=0.5,
        solar_mj_m2_day=20.0,
        temp_delta_c=0.0,
        precip_pct=0.0,
        mode="text",
        control_months_before=1,
        **FAST,
    )
    values.update(changes)
    return client.predict(**values, api_name="/generate")


def _image(path) -> np.ndarray:
    return np.asarray(iio.imread(path))[..., :3]


def test_the_api_lists_the_named_endpoints(stack):
    _, _, _, client = stack
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/observe", "/generate", "/timelapse"} <= names


def test_observe_returns_the_real_scene_and_the_months_power_climate(stack):
    _, settings, _, client = stack
    from core.geo import Month, Point
    from core.sources.climate import climate_for_month, fetch_climate

    image_path, info, _plot, details, land_cover, _note, cloud_pct = _observe(client)
    image = _image(image_path)
    assert image.shape == (512, 512, 3)
    assert image.std() > 5  # real desert texture, not a blank frame
    assert details["scene"]["scene_id"] == SAHARA_ITEM_ID
    assert SAHARA_ITEM_ID in info and "2020-02-19" in info
    # the climate shown is the one core reads from the same (replayed) POWER service
    expected = climate_for_month(fetch_climate(Point(LAT, LON), Month(2020, 2), Month(2020, 2), settings), "2020-02")
    assert details["climate"]["temp_c"] == pytest.approx(expected.temp_c)
    assert details["point"] == {"lat": LAT, "lon": LON}
    assert 0.0 <= cloud_pct <= 100.0
    from core.sources.landcover import LAND_COVER_CLASSES

    assert land_cover in (*LAND_COVER_CLASSES, None)


def test_observe_a_month_without_scenes_is_an_error_naming_the_month(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(lat=LAT, lon=LON, month="2021-06", api_name="/observe")
    assert "2021-06" in str(caught.value)


def test_observe_rejects_a_bad_month_with_the_fix(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="YYYY-MM"):
        client.predict(lat=LAT, lon=LON, month="Feb 2020", api_name="/observe")


def test_generate_gives_an_image_a_comparison_and_three_exports(stack):
    _, _, _, client = stack
    image_path, slider, metrics_md, prompts_md, png, tif, recipe = _generate(client)
    generated = _image(image_path)
    assert generated.shape == (512, 512, 3)
    real, compared = (_image(p) for p in slider)
    assert real.shape == compared.shape == (512, 512, 3)
    assert np.array_equal(compared, generated)
    assert not np.array_equal(real, generated)
    assert "SSIM" in metrics_md and "PSNR" in metrics_md
    assert "Barren or Sparsely Vegetated" in prompts_md and "February 2020" in prompts_md
    assert "The average temperature over the last month was 20 C." in prompts_md

    from PIL import Image

    with Image.open(png) as stored:
        text = json.dumps(dict(stored.info))
    assert "tiny-random" in text and "Barren or Sparsely Vegetated" in text
    assert np.array_equal(_image(png), generated)

    import rasterio

    with rasterio.open(tif) as dataset:
        assert dataset.crs.to_epsg() == 32629
        assert (dataset.width, dataset.height, dataset.count) == (512, 512, 3)
        assert dataset.res == pytest.approx((10.0, 10.0))
        bounds = tuple(dataset.bounds)
    from core.geo import Footprint, Point

    # georeferenced on the footprint's own 10 m UTM grid
    assert bounds == pytest.approx(Footprint.around(Point(LAT, LON)).bounds)
    assert json.loads(Path(recipe).read_text())  # a JSON document


def test_a_loaded_recipe_regenerates_the_same_image(stack):
    _, _, _, client = stack
    first_path, *_rest, recipe = _generate(client, seed=11, temp_c=31.0)
    from gradio_client import handle_file

    controls = client.predict(path=handle_file(recipe), api_name="/load_recipe")
    (lat, lon, month, land_cover, cloud, temp, precip, solar, d_temp, d_precip, mode, before, seed, steps, guidance,
     size, model_id, controlnet, lora, lora_scale, use_observed) = controls  # fmt: skip
    assert (model_id, use_observed) == ("tiny-random", False)
    assert (seed, temp) == (11, pytest.approx(31.0))
    again = _generate(
        client, lat=lat, lon=lon, month=month, land_cover=land_cover, cloud_pct=cloud, temp_c=temp,
        precip_mm_day=precip, solar_mj_m2_day=solar, temp_delta_c=d_temp, precip_pct=d_precip, mode=mode,
        control_months_before=before, seed=seed, steps=steps, guidance=guidance, size_px=size, model_id=model_id,
        controlnet=controlnet, lora=lora, lora_scale=lora_scale,
    )  # fmt: skip
    assert np.array_equal(_image(again[0]), _image(first_path))


def test_generate_without_land_cover_says_how_to_fix_it(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="land cover"):
        _generate(client, land_cover=None)


def test_timelapse_writes_one_gif_frame_per_month(stack):
    _, _, _, client = stack
    gif_preview, _mp4, download, summary = client.predict(
        lat=LAT,
        lon=LON,
        start="2020-01",
        end="2020-03",
        climate_source="scenario",
        temp_delta_c=2.0,
        precip_pct=-20.0,
        chain="independent",
        side_by_side=False,
        video_format="gif",
        fps=2.0,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        **FAST,
        api_name="/timelapse",
    )
    frames = iio.imread(download, index=None)
    assert frames.shape[0] == 3
    assert "3 frames" in summary and "+2.0 °C" in summary
    assert Path(gif_preview).suffix == ".gif"


def test_scenario_grid_labels_every_variant_with_its_climate(stack):
    _, _, _, client = stack
    gallery = client.predict(
        lat=LAT,
        lon=LON,
        month=MONTH,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        temp_c=20.0,
        precip_mm_day=1.0,
        solar_mj_m2_day=20.0,
        temp_deltas_text="0, 3",
        precip_pcts_text="-50, 0, 50",
        **FAST,
        api_name="/scenario_grid",
    )
    captions = [item["caption"] for item in gallery]
    assert len(captions) == 6
    assert captions[0] == "+0.0 °C, -50 % precip: 20.0 °C, 0.50 mm/day"
    assert captions[-1] == "+3.0 °C, +50 % precip: 23.0 °C, 1.50 mm/day"
    first, last = (_image(item["image"]) for item in (gallery[0], gallery[-1]))
    assert first.shape == (512, 512, 3) and not np.array_equal(first, last)


def test_controlnet_mode_is_conditioned_on_the_real_image_of_an_earlier_month(stack):
    _, _, _, client = stack
    image_path, _slider, _metrics, prompts_md, *_files = _generate(
        client, month="2020-03", mode="controlnet", control_months_before=1, controlnet="tiny-random"
    )
    assert _image(image_path).shape == (512, 512, 3)
    assert "March 2020" in prompts_md


def test_controlnet_without_an_earlier_scene_says_which_month_is_missing(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="ControlNet needs a real image 1 month") as caught:
        _generate(client, month="2020-02", mode="controlnet", control_months_before=1, controlnet="tiny-random")
    assert "2020-01" in str(caught.value)


def test_mp4_timelapse_side_by_side_puts_the_real_image_beside_each_frame(stack):
    _, _, _, client = stack
    gif_preview, mp4_preview, download, summary = client.predict(
        lat=LAT,
        lon=LON,
        start="2020-02",
        end="2020-03",
        climate_source="observed",
        temp_delta_c=0.0,
        precip_pct=0.0,
        chain="independent",
        side_by_side=True,
        video_format="mp4",
        fps=2.0,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        **FAST,
        api_name="/timelapse",
    )
    assert gif_preview is None and mp4_preview and Path(download).suffix == ".mp4"
    frames = iio.imread(download, index=None)
    assert frames.shape[0] == 2
    assert frames.shape[2] >= 2 * 512  # real | generated
    assert "side by side" in summary
