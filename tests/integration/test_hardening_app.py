"""The app as a shared server, through gradio_client: a client cannot choose weights the operator did not
offer (and cannot probe paths), uploads are size-limited, bad uploads give our one-line message,
exports go to a private folder, telemetry is off."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.model_policy import ModelPolicy
from tests.support.app_harness import free_port
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server
from tests.unit.test_input_limits import _recipe, png_bomb

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]

LAT, LON, MONTH = 24.8, -11.4, "2020-02"
MAX_UPLOAD_MB = 1


@pytest.fixture(scope="module")
def shared_app(test_rasters, tmp_path_factory):
    """The app started like `python app.py --model tiny-random --max-upload-mb 1` (default policy)."""
    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    from gradio_client import Client

    from app.ui import build_ui, launch_kwargs

    server = start_replay_server(REAL, test_rasters)
    root = tmp_path_factory.mktemp("shared-app")
    settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
    policy = ModelPolicy.for_server("tiny-random", settings.checkpoints_dir)
    demo = build_ui("tiny-random", settings=settings, policy=policy)  # the default, private export folder
    demo.ecomapper_max_upload_mb = MAX_UPLOAD_MB
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
        **launch_kwargs(demo),
    )  # fmt: skip
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(root / "downloads"))
        yield demo, client, root
    finally:
        demo.close()
        server.stop()


def _generate(client, **changes):
    values = dict(
        lat=LAT, lon=LON, month=MONTH, land_cover="Barren or Sparsely Vegetated", cloud_pct=0.0, temp_c=20.0,
        precip_mm_day=0.5, solar_mj_m2_day=20.0, temp_delta_c=0.0, precip_pct=0.0, mode="text",
        control_months_before=1, seed=1, steps=1, guidance=5.0, size_px=512, model_id="tiny-random",
    )  # fmt: skip
    values.update(changes)
    return client.predict(**values, api_name="/generate")


def _refusal(client, **changes) -> str:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        _generate(client, **changes)
    return str(caught.value)


@pytest.mark.parametrize(
    "changes",
    [
        {"model_id": "stabilityai/stable-diffusion-3.5-large"},
        {"model_id": "sd3-medium"},
        {"lora": "/etc/passwd"},
        {"mode": "controlnet", "month": "2020-03", "controlnet": "InstantX/SD3-Controlnet-Tile"},
    ],
)
def test_a_client_cannot_load_weights_the_operator_did_not_offer(shared_app, changes):
    _, client, _ = shared_app
    message = _refusal(client, **changes)
    assert "This server does not offer the" in message and "Unexpected" not in message


def test_refusals_do_not_reveal_whether_a_server_path_exists(shared_app, tmp_path):
    _, client, _ = shared_app
    existing, missing = tmp_path / "real-folder", tmp_path / "no-such-folder"
    existing.mkdir()
    (existing / "model_index.json").write_text("{}")
    one = _refusal(client, model_id=str(existing)).replace(str(existing), "PATH")
    two = _refusal(client, model_id=str(missing)).replace(str(missing), "PATH")
    assert one == two


def test_an_oversized_upload_is_refused_and_not_kept(shared_app, tmp_path):
    from gradio_client import handle_file

    demo, client, _ = shared_app
    big = tmp_path / f"big-{os.getpid()}-{tmp_path.name}.recipe.json"
    big.write_bytes(b" " * (MAX_UPLOAD_MB * 1024 * 1024 + 10))
    with pytest.raises(Exception, match="(?i)file size|too large|exceed|413"):
        client.predict(path=handle_file(str(big)), api_name="/load_recipe")
    assert list(Path(demo.GRADIO_CACHE).rglob(big.name)) == []  # the upload was not stored


def test_a_bad_upload_gives_our_one_line_message(shared_app, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    _, client, _ = shared_app
    nested = tmp_path / "nested.recipe.json"
    nested.write_text("[" * 50_000 + "]" * 50_000)
    with pytest.raises(AppError, match="nested too deeply"):
        client.predict(path=handle_file(str(nested)), api_name="/load_recipe")
    listed = _recipe(tmp_path, "list.recipe.json", model=["tiny-random"])
    with pytest.raises(AppError, match="model part that is a list"):
        client.predict(path=handle_file(str(listed)), api_name="/load_recipe")
    import base64

    bomb = base64.b64encode(png_bomb(tmp_path / "b.png", 5000).read_bytes()).decode()
    with_bomb = _recipe(tmp_path, "bomb.recipe.json", mode="controlnet", control_image_png_base64=bomb)
    with pytest.raises(AppError, match="over the limit"):
        client.predict(path=handle_file(str(with_bomb)), api_name="/load_recipe")


def test_exports_go_to_a_private_folder_and_telemetry_is_off(shared_app):
    demo, client, _ = shared_app
    _generate(client)
    folder = demo.ecomapper_config.output_dir
    assert folder.name.startswith("ecomapper-app-") and not folder.is_symlink()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
    assert any(p.suffix == ".png" for p in folder.rglob("*"))  # the export landed there
    assert demo.analytics_enabled is False
    assert demo.delete_cache  # uploads are swept


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"seed": 2**70}, "seed = 1_180_591_620_717_411_303_424 is outside"),  # was "Unexpected OverflowError"
        ({"seed": 1.5}, "seed 1.5 is not a whole number"),  # was rounded to 2 by the widget
        ({"seed": -1}, "-1"),
        ({"steps": -4}, "-4"),  # the widget's own bounds (Gradio) or ours: either names the value
        ({"steps": 100_000}, "100000"),
        ({"guidance": "nan"}, "nan"),
        ({"size_px": 99_999}, "99999"),
        ({"steps": "many"}, "many"),
    ],
)
def test_an_out_of_range_number_is_refused_in_one_line_naming_it(shared_app, changes, named):
    _, client, _ = shared_app
    message = _refusal(client, **changes)
    assert named in message and "Unexpected" not in message and "show_error" not in message, message


def test_a_recipe_at_a_size_the_picker_does_not_offer_is_refused_naming_it(shared_app, tmp_path):
    # issue 26: a recipe made at 64 px was refused by the size picker without saying why
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    _, client, _ = shared_app
    small = _recipe(tmp_path, "small.recipe.json", size_px=64)
    with pytest.raises(AppError, match="made at 64 px; the app generates at 512 or 1024 px"):
        client.predict(path=handle_file(str(small)), api_name="/load_recipe")
