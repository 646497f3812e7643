"""`python -m core generate` and `timelapse` with tiny-random: offline, and against the replay server."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.export.image_files import read_png_metadata, read_recipe

OFFLINE_CONTEXT = [
    *("--lat", "-1.5", "--lon", "36.8", "--land-cover", "Croplands", "--country", "Kenya"),
    *("--temp", "21.4", "--precip", "3.2", "--rad", "19.9"),
]
FAST = ["--model", "tiny-random", "--steps", "2", "--size", "64"]


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    return tmp_path


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_generate_offline_then_regenerate_from_recipe(env, capsys):
    out = env / "out" / "kenya.png"
    code, stdout, _ = run_cli(
        capsys,
        "--offline",
        "generate",
        *OFFLINE_CONTEXT,
        "--month",
        "2021-03",
        *FAST,
        "--seed",
        "4",
        "--out",
        out,
        "--geotiff",
        env / "out" / "kenya.tif",
    )
    assert code == 0
    summary = json.loads(stdout)
    assert summary["prompts"]["spatial"] == "a satellite image of Croplands in Kenya on March 2021."
    assert summary["written"]["recipe"] == str(env / "out" / "kenya.recipe.json")
    meta = read_png_metadata(out)
    assert meta["prompt"] == summary["prompts"]["spatial"] and meta["seed"] == "4"
    import rasterio

    with rasterio.open(env / "out" / "kenya.tif") as src:
        assert src.crs.to_string() == "EPSG:32737" and src.width == 64

    again = env / "again.png"
    code, stdout, _ = run_cli(
        capsys, "--offline", "generate", "--recipe", env / "out" / "kenya.recipe.json", "--out", again
    )
    assert code == 0 and json.loads(stdout)["model"] == "tiny-random"
    np.testing.assert_array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(out)))


def test_generate_controlnet_with_user_image(env, capsys):
    control = env / "control.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(control)
    code, stdout, _ = run_cli(
        capsys,
        "--offline",
        "generate",
        *OFFLINE_CONTEXT,
        "--month",
        "2021-03",
        *FAST,
        "--control-image",
        control,
        "--out",
        env / "cn.png",
    )
    assert code == 0 and json.loads(stdout)["mode"] == "controlnet"
    assert read_recipe(env / "cn.recipe.json").control_image.shape == (64, 64, 3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--size", "500"], "not a multiple of 16"),
        (["--steps", "0"], "--steps = 0 is outside 1..500 steps"),
        (["--temp", "nan"], "temperature value nan is missing or not a number"),
        (["--model", "sd4-ultra"], "Unknown model 'sd4-ultra'"),
        (["--model", "sd3-medium"], "offline mode is on"),
        (["--control-image", "{rgba}"], "mode RGBA, not RGB"),
        (["--control-image", "{small}"], "32 x 32 px, but --size is 64"),
        (["--cloud", "40"], "cloud fraction 40"),
    ],
)
def test_generate_bad_input_is_one_line_and_writes_nothing(env, capsys, extra, message):
    Image.fromarray(np.zeros((64, 64, 4), np.uint8), "RGBA").save(env / "rgba.png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(env / "small.png")
    extra = [e.format(rgba=env / "rgba.png", small=env / "small.png") for e in extra]
    out_dir = env / "out"
    code, stdout, stderr = run_cli(
        capsys,
        "--offline",
        "generate",
        *OFFLINE_CONTEXT,
        "--month",
        "2021-03",
        *FAST,
        *extra,
        "--hf-cache-dir",
        env / "hf",
        "--out",
        out_dir / "x.png",
    )
    assert code == 2 and stdout == ""
    assert stderr.startswith("error: ") and message in stderr and stderr.count("\n") == 1
    assert "Traceback" not in stderr
    assert not out_dir.exists()


@pytest.mark.slow
def test_timelapse_offline_mp4_with_frames(env, capsys):
    import imageio.v3 as iio

    out = env / "anim.mp4"
    code, stdout, _ = run_cli(
        capsys,
        "--offline",
        "timelapse",
        *OFFLINE_CONTEXT,
        "--start",
        "2021-01",
        "--end",
        "2021-04",
        *FAST,
        "--temp-delta",
        "1.5",
        "--out",
        out,
        "--frames-dir",
        env / "frames",
    )
    assert code == 0
    summary = json.loads(stdout)
    assert summary["frames"] == 4 and summary["text_encoder_calls"] == 5
    assert iio.imread(out, index=None, plugin="FFMPEG").shape[0] == 4
    assert sorted(p.name for p in (env / "frames").iterdir()) == [f"2021-0{m}.png" for m in range(1, 5)]
    meta = read_png_metadata(env / "frames" / "2021-02.png")
    assert "was 23 C." in meta["climate_prompt"]  # 21.4 + 1.5 = 22.9 -> 23


@pytest.mark.slow
def test_generate_with_observed_data_and_real_control_month(env, capsys, replay_server, monkeypatch):
    for key, value in replay_server.env().items():
        monkeypatch.setenv(key, value)
    code, stdout, stderr = run_cli(
        capsys,
        "generate",
        "--lat",
        "24.8",
        "--lon",
        "-11.4",
        "--month",
        "2020-03",
        "--control-month",
        "2020-02",
        *FAST,
        "--out",
        env / "sahara.png",
    )
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["mode"] == "controlnet"
    spatial = summary["prompts"]["spatial"]
    assert spatial.startswith("a satellite image of ") and spatial.endswith(" on March 2020.")
    # observed climate (NASA POWER replay) made it into the T5 prompt
    assert "The average temperature over the last month was" in summary["prompts"]["climate"]
    recipe = read_recipe(env / "sahara.recipe.json")
    assert recipe.control_month is not None and recipe.control_image.shape == (64, 64, 3)


@pytest.mark.slow
def test_timelapse_side_by_side_with_replay(env, capsys, replay_server, monkeypatch):
    import imageio.v3 as iio

    for key, value in replay_server.env().items():
        monkeypatch.setenv(key, value)
    out = env / "pair.gif"
    code, _, stderr = run_cli(
        capsys,
        "timelapse",
        "--lat",
        "24.8",
        "--lon",
        "-11.4",
        "--start",
        "2020-02",
        "--end",
        "2020-03",
        "--land-cover",
        "Barren or Sparsely Vegetated",
        "--country",
        "Morocco",
        *FAST,
        "--side-by-side",
        "--out",
        out,
    )
    assert code == 0, stderr
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 2 and frames.shape[2] == 128
    # February has a real scene on the left; March has none: the grey "No Sentinel-2 image" panel, not black
    from core.services.timelapse import NO_IMAGE_GREY

    february, march = frames[0, :64, :64, :3], frames[1, :64, :64, :3]
    assert february.std() > 0 and (february == NO_IMAGE_GREY).all(axis=-1).mean() < 0.01
    assert (march == NO_IMAGE_GREY).all(axis=-1).mean() > 0.8 and march.max() > NO_IMAGE_GREY[0]  # grey, with text


@pytest.mark.slow
def test_generate_with_a_local_model_folder_and_lora(env, capsys):
    from tests.support.gen_tiny_weights import save_tiny_lora, save_tiny_pipeline

    model = save_tiny_pipeline(env / "my-sd3")
    lora = save_tiny_lora(env / "my-lora")
    common = ["--offline", "generate", *OFFLINE_CONTEXT, "--month", "2021-03", "--steps", "2", "--size", "64"]
    code, _, stderr = run_cli(capsys, *common, "--model", model, "--out", env / "base.png")
    assert code == 0, stderr
    code, _, stderr = run_cli(
        capsys, *common, "--model", model, "--lora", lora, "--lora-scale", "1.0", "--out", env / "lora.png"
    )
    assert code == 0, stderr
    code, _, stderr = run_cli(
        capsys, *common, "--model", model, "--lora", lora, "--lora-scale", "0", "--out", env / "off.png"
    )
    assert code == 0, stderr
    base, with_lora, off = (np.asarray(Image.open(env / f"{n}.png")) for n in ("base", "lora", "off"))
    assert not np.array_equal(base, with_lora)
    np.testing.assert_array_equal(base, off)
    recipe = json.loads((env / "lora.recipe.json").read_text())
    assert recipe["model"]["lora"] == str(lora) and recipe["model"]["model_id"] == str(model)


@pytest.mark.slow
def test_generate_img2img_strength_zero_is_the_start_image_through_the_vae(env, capsys):
    from core.config import Settings
    from core.models import ModelSpec, load_pipeline
    from core.models.image_modes import vae_round_trip

    start = env / "start.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(start)
    out = env / "img2img.png"
    code, stdout, _ = run_cli(
        capsys,
        *("--offline", "generate", *OFFLINE_CONTEXT, "--month", "2021-03", *FAST),
        *("--mode", "img2img", "--strength", "0", "--control-image", start, "--out", out),
    )
    assert code == 0 and json.loads(stdout)["mode"] == "img2img"
    pipe = load_pipeline(ModelSpec("tiny-random"), Settings.from_env().with_(offline=True)).pipe
    expected = vae_round_trip(pipe, np.asarray(Image.open(start)))
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), expected)
    assert read_recipe(out.with_suffix(".recipe.json")).strength == 0.0
