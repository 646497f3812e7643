"""The app's "Models" tab through gradio_client: the app on `tiny-random` runs every tiny family of
the backend registry, next to the real Sentinel-2 image from the local replay server, and lists the
real backends whose weights are not here with how to get them."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from core.model_policy import ModelPolicy
from core.models.backends.registry import BACKENDS, TINY_BACKENDS
from core.services.compare_models import CELL_PX
from tests.support.app_harness import running_app
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server
from tests.support.tile_server import TileServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.4, "2020-02"
COLUMN_PX = CELL_PX + 8  # the sheet's cell plus its gap (core.services.compare_models.render_sheet)


@pytest.fixture(scope="module")
def stack(test_rasters, tmp_path_factory):
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    from gradio_client import Client

    server = start_replay_server(REAL, test_rasters)
    root = tmp_path_factory.mktemp("app-models")
    settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
    # A server started with --allow-model for every real backend: none has weights here, so each is listed.
    policy = ModelPolicy.for_server("tiny-random", root / "checkpoints", models=tuple(BACKENDS))
    settings = settings.with_(model_policy=policy)
    try:
        # The OSM-layout families (GeoSynth-OSM, MapSat) read their layout from a local tile server.
        with (
            TileServer() as tiles,
            running_app(settings.with_(osm_tile_url=tiles.url_template), "tiny-random", root / "outputs") as app,
        ):
            yield Client(app.url, verbose=False, download_files=str(root / "downloads"))
    finally:
        server.stop()


def _compare(client, **changes):
    values = dict(
        lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, temp_c=20.0,
        precip_mm_day=0.5, solar_mj_m2_day=20.0, temp_delta_c=2.0, precip_pct=0.0, seed=3,
    )  # fmt: skip
    values.update(changes)
    return client.predict(**values, api_name="/compare_models")


def test_models_tab_puts_every_tiny_family_beside_the_real_image_and_says_how_to_get_the_rest(stack):
    sheet_path, metrics, missing, file_path = _compare(stack)
    sheet = np.asarray(iio.imread(sheet_path))[..., :3]
    assert np.array_equal(sheet, np.asarray(iio.imread(file_path))[..., :3])
    panels = (sheet.shape[1] - 8) // COLUMN_PX
    assert panels == 1 + len(TINY_BACKENDS), (panels, missing)
    # The first panel is the real Sentinel-2 image (not the empty frame drawn when there is none).
    top = 6 + 12 + 12  # render_sheet: 6 px margin, one header line, one blank line (12 px each)
    real_cell = sheet[top : top + CELL_PX, 8 : 8 + CELL_PX]
    assert real_cell.std() > 5
    assert "Sentinel-2" in metrics
    for backend_id in TINY_BACKENDS:
        assert f"| {backend_id} |" in metrics
    assert "SSIM" in metrics and "PSNR" in metrics
    # End users are told which models are not here; how to add them (weights, --allow-model) is in the log.
    assert missing.startswith("Not on this server: ")
    for backend_id, info in BACKENDS.items():
        assert backend_id in missing and info.how_to_get not in missing
    assert "--allow-model" not in missing and "checkpoints" not in missing


def test_models_tab_refuses_without_land_cover_and_runs_nothing(stack):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="land cover"):
        _compare(stack, land_cover=None)


def test_the_client_cannot_choose_which_backends_run(stack):
    endpoint = stack.view_api(print_info=False, return_format="dict")["named_endpoints"]["/compare_models"]
    names = {p["parameter_name"] for p in endpoint["parameters"]}
    assert not {"model_id", "models", "backend_ids", "controlnet"} & names
