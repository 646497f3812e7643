"""The app's named endpoints through gradio_client, with the app launched in this process on
`tiny-random` and every data endpoint on the local replay server (real STAC item and Sentinel-2
COG of the western Sahara, real NASA POWER recording)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from app.handlers.generate import GENERATE_FIELDS
from core.geo import Month, Point
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


def _observe(client, month=MONTH, lat=LAT, lon=LON):
    return client.predict(lat=lat, lon=lon, month=month, api_name="/observe")


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


def _timelapse(client, *, start, end, **changes):
    """The /timelapse endpoint: independent GIF frames under the observed climate unless `changes` say otherwise."""
    values = dict(
        lat=LAT,
        lon=LON,
        start=start,
        end=end,
        climate_source="observed",
        temp_delta_c=0.0,
        precip_pct=0.0,
        chain="independent",
        side_by_side=False,
        video_format="gif",
        fps=2.0,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        **FAST,
    )
    values.update(changes)
    return client.predict(**values, api_name="/timelapse")


def _image(path) -> np.ndarray:
    return np.asarray(iio.imread(path))[..., :3]


def test_the_api_lists_the_named_endpoints_with_their_documented_parameters(stack):
    _, _, _, client = stack
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/observe", "/generate", "/timelapse", "/scenario_grid", "/load_recipe"} <= set(endpoints)
    generate = [p["parameter_name"] for p in endpoints["/generate"]["parameters"]]
    assert generate[:10] == [
        "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
        "temp_delta_c", "precip_pct",
    ]  # fmt: skip


def test_observe_returns_the_real_scene_and_the_months_power_climate(stack):
    _, settings, _, client = stack
    from core.services import observed_climate

    image_path, info, _plot, details, land_cover, _note, cloud_pct, temp, precip, _solar, line, month = _observe(client)
    image = _image(image_path)
    assert image.shape == (512, 512, 3)
    assert image.std() > 5  # real desert texture, not a blank frame
    assert details["scene"]["scene_id"] == SAHARA_ITEM_ID
    assert SAHARA_ITEM_ID in info and "2020-02-19" in info
    # the climate shown is the one core reads from the same (replayed) POWER service
    expected = observed_climate(Point(LAT, LON), Month(2020, 2), settings)
    assert details["climate"]["temp_c"] == pytest.approx(expected.temp_c)
    assert float(temp) == pytest.approx(expected.temp_c, abs=0.05)  # shown at its display precision
    assert float(precip) == pytest.approx(expected.precip_mm_day, abs=0.005)
    assert details["point"] == {"lat": LAT, "lon": LON}
    assert 0.0 <= cloud_pct <= 100.0 and month == MONTH and "Sentinel-2 2020-02-19" in line
    from core.sources.land_cover_classes import LAND_COVER_CLASSES

    assert land_cover in (*LAND_COVER_CLASSES, None)


def test_a_month_without_a_scene_still_gives_its_climate_and_land_cover_and_no_image(stack):
    _, _, _, client = stack
    image_path, info, _plot, details, land_cover, _note, _cloud, temp, _p, _s, line, month = _observe(client, "2021-06")
    assert image_path is None and details["scene"] is None
    assert "2021-06" in details["scene_problem"] and "No Sentinel-2 image" in info
    assert details["climate"] is not None and float(temp) == pytest.approx(details["climate"]["temp_c"], abs=0.05)
    assert "no Sentinel-2 image" in line and month == "2021-06"
    assert land_cover == details["land_cover"]["class"]


def test_observe_accepts_a_decimal_comma_and_rejects_a_bad_month_naming_the_field(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    *_, month = _observe(client, lat="24,8", lon="-11,4")
    assert month == MONTH
    with pytest.raises(AppError, match="The month.*YYYY-MM"):
        _observe(client, "Feb 2020")
    with pytest.raises(AppError, match="The latitude '24.8.1' is not a number"):
        _observe(client, lat="24.8.1")


def test_observe_without_a_point_says_pick_a_place_first(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No place is picked yet"):
        _observe(client, lat="", lon="")


def test_generate_gives_today_and_the_scenario_from_one_seed_a_comparison_and_exports(stack):
    _, _, _, client = stack
    scenario_path, today_path, slider, metrics_md, prompts_md, png, tif, recipe, html_map = _generate(
        client, temp_delta_c=4.0, precip_pct=-30.0
    )
    scenario, today = _image(scenario_path), _image(today_path)
    # both carry the "AI-generated" band under the 512 px image
    assert scenario.shape[1] == 512 and scenario.shape[0] > 512 and today.shape == scenario.shape
    left, right = (_image(p) for p in slider)
    assert np.array_equal(left, today) and np.array_equal(right, scenario)
    assert "scenario vs today" in metrics_md and "today vs real" in metrics_md and "How to read" in metrics_md
    assert "Barren or Sparsely Vegetated" in prompts_md and "February 2020" in prompts_md
    # the scenario's prompt: observed 20 °C + 4 °C, 0.5 mm/day - 30 %
    assert "The average temperature over the last month was 24 C." in prompts_md

    from PIL import Image

    with Image.open(png) as stored:
        text = json.dumps(dict(stored.info))
    assert "tiny-random" in text and "Barren or Sparsely Vegetated" in text
    assert _image(png).shape == (512, 512, 3)

    import rasterio

    with rasterio.open(tif) as dataset:
        assert dataset.crs.to_epsg() == 32629
        assert (dataset.width, dataset.height, dataset.count) == (512, 512, 3)
        assert dataset.res == pytest.approx((10.0, 10.0))
        bounds = tuple(dataset.bounds)
    from core.geo import Footprint

    # georeferenced on the footprint's own 10 m UTM grid
    assert bounds == pytest.approx(Footprint.around(Point(LAT, LON)).bounds)
    saved = json.loads(Path(recipe).read_text())
    assert saved["request"]["climate"]["temp_c"] == pytest.approx(24.0)
    page = Path(html_map).read_text()
    # the exportable map: basemap, the real image and both generated images as named layers
    assert "leaflet" in page.lower() and page.count("data:image/png;base64") == 3 and "AI-generated" in page


def test_a_loaded_recipe_regenerates_the_same_image_with_numbers_at_display_precision(stack):
    _, _, _, client = stack
    first_path, *_rest, recipe, _map = _generate(client, seed=11, temp_c=31.0, precip_mm_day=1.078)
    from gradio_client import handle_file

    controls = client.predict(path=handle_file(recipe), api_name="/load_recipe")
    values, preset = dict(zip(GENERATE_FIELDS, controls[:-1], strict=True)), controls[-1]
    assert values["model_id"] == "tiny-random" and values["seed"] == 11
    assert values["temp_c"] == "31.0" and values["precip_mm_day"] == "1.08"  # not 1.0779999999999998
    assert preset == "Today"
    again = _generate(client, **values)
    assert np.array_equal(_image(again[0]), _image(first_path))


def test_generate_without_land_cover_or_point_says_how_to_fix_it(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="land cover"):
        _generate(client, land_cover=None)
    with pytest.raises(AppError, match="No place is picked yet.*Pick a place first"):
        _generate(client, lat="", lon="")
    with pytest.raises(AppError, match="observed precipitation"):
        _generate(client, precip_mm_day="1.234,5")


def test_timelapse_writes_one_gif_frame_per_month(stack):
    _, _, _, client = stack
    gif_preview, _mp4, download, summary = _timelapse(
        client, start="2020-01", end="2020-03", climate_source="scenario", temp_delta_c=2.0, precip_pct=-20.0
    )
    frames = iio.imread(download, index=None)
    assert frames.shape[0] == 3
    assert "3 frames" in summary and "+2 °C, \u221220 % rain" in summary and "AI-generated" in summary
    assert Path(gif_preview).suffix == ".gif"


def test_scenario_grid_is_one_image_laid_out_as_rows_by_columns(stack):
    _, _, _, client = stack
    image_path, download = client.predict(
        lat=LAT,
        lon=LON,
        month=MONTH,
        land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0,
        temp_c=20.0,
        precip_mm_day=1.0,
        solar_mj_m2_day=20.0,
        temp_deltas_text="0, 3",
        precip_pcts_text="-50; 0",
        **FAST,
        api_name="/scenario_grid",
    )
    grid = _image(download)
    assert np.array_equal(grid, _image(image_path))
    # 2 x 2 cells of 512 px under a title and column headers, beside row headers: a real 2 x 2 layout
    assert 2 * 512 < grid.shape[0] < 3 * 512 and 2 * 512 < grid.shape[1] < 3 * 512
    from PIL import Image

    with Image.open(download) as stored:
        assert "AI-generated" in stored.info["label"]


def test_controlnet_mode_is_conditioned_on_the_real_image_of_an_earlier_month(stack):
    _, _, _, client = stack
    image_path, _today, _slider, _metrics, prompts_md, *_files = _generate(
        client, month="2020-03", mode="controlnet", control_months_before=1, controlnet="tiny-random"
    )
    assert _image(image_path).shape[1] == 512
    assert "control image of 2020-02" in prompts_md
    assert "March 2020" in prompts_md


def test_controlnet_without_an_earlier_scene_says_which_month_is_missing(stack):
    _, _, _, client = stack
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="ControlNet needs a real image 1 month") as caught:
        _generate(client, month="2020-02", mode="controlnet", control_months_before=1, controlnet="tiny-random")
    assert "2020-01" in str(caught.value)


def test_mp4_timelapse_side_by_side_puts_the_real_image_beside_each_frame(stack):
    _, _, _, client = stack
    gif_preview, mp4_preview, download, summary = _timelapse(
        client, start="2020-02", end="2020-03", side_by_side=True, video_format="mp4"
    )
    assert gif_preview is None and mp4_preview and Path(download).suffix == ".mp4"
    frames = iio.imread(download, index=None)
    assert frames.shape[0] == 2
    assert frames.shape[2] >= 2 * 512  # real | generated
    assert "side by side" in summary


def test_the_app_and_the_cli_write_the_same_recipe_for_the_same_request(stack, monkeypatch, tmp_path, capsys):
    server, settings, _, client = stack
    *_, app_recipe, _map = _generate(client, seed=5, temp_c=21.5, precip_mm_day=0.75, solar_mj_m2_day=19.25)
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(settings.checkpoints_dir))
    from core.cli import main

    cli_out = tmp_path / "cli.png"
    code = main(
        [
            *("generate", "--model", "tiny-random", "--lat", str(LAT), "--lon", str(LON), "--month", MONTH),
            *("--land-cover", "Barren or Sparsely Vegetated", "--cloud", "0"),
            *("--temp", "21.5", "--precip", "0.75", "--rad", "19.25"),
            *("--seed", "5", "--steps", str(FAST["steps"]), "--guidance", str(FAST["guidance"]), "--size", "512"),
            *("--out", str(cli_out)),
        ]
    )
    capsys.readouterr()
    assert code == 0
    app_side = json.loads(Path(app_recipe).read_text())
    cli_side = json.loads(cli_out.with_suffix(".recipe.json").read_text())
    assert app_side == cli_side


@pytest.mark.slow
def test_generate_and_timelapse_run_a_peer_generator_through_the_same_endpoints(stack):
    _, _, _, client = stack
    peer = {"model_id": "tiny-diffusionsat"}
    scenario_path, today_path, _slider, _metrics, _prompts, png, _tif, recipe, _map = _generate(
        client, temp_delta_c=4.0, **peer
    )
    assert _image(png).shape == (512, 512, 3)
    saved = json.loads(Path(recipe).read_text())
    assert saved["model"]["model_id"] == "tiny-diffusionsat"
    assert saved["request"]["climate"]["temp_c"] == pytest.approx(24.0)
    # DiffusionSat reads metadata, not the climate: today and +4 °C are the same picture from one seed
    assert np.array_equal(_image(scenario_path)[:512], _image(today_path)[:512])  # the label bands differ
    _gif, _mp4, download, summary = _timelapse(client, start="2020-01", end="2020-02", **peer)
    assert iio.imread(download, index=None).shape[0] == 2 and "2 frames" in summary

    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="cannot do mode 'controlnet'"):
        _generate(client, month="2020-03", mode="controlnet", control_months_before=1, **peer)


def test_side_by_side_shows_a_grey_no_image_panel_for_a_month_without_a_scene(stack):
    """Issue 25: a month without a scene showed a black "real" panel (June 2021 has none at this point)."""
    _, _, _, client = stack
    _gif, _mp4, download, _summary = _timelapse(client, start="2021-06", end="2021-06", side_by_side=True)
    frame = np.asarray(iio.imread(download, index=None))[0][..., :3]
    real_panel = frame[: frame.shape[0] * 3 // 4, : frame.shape[1] // 2]  # above the caption band
    assert real_panel.mean() > 60, "the real panel is black"
    assert (np.abs(real_panel.astype(int) - 96).max(axis=-1) <= 2).mean() > 0.9  # grey, with a little text
    assert (real_panel > 200).any()  # the text that says there is no image
