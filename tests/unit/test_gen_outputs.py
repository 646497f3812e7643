"""Time-lapse GIF/MP4 with captions, PNG metadata, GeoTIFF georeference, recipes that regenerate exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.export.image_files import (
    footprint_georeference,
    read_png_metadata,
    read_recipe,
    read_recipe_model,
    result_metadata,
    write_geotiff,
    write_png,
    write_recipe,
)
from core.export.timelapse import caption_for, compose_frame, write_timelapse
from core.generation.compositions import TimelapseRequest
from core.generation.runs import generate_images, generate_time_series
from core.geo import Footprint, Month, month_range
from core.models import ModelSpec
from core.models.engine import Engine
from tests.support.tiny_generation import KENYA, tiny_generation_request

request = tiny_generation_request


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_twelve_month_gif_and_mp4(tiny_engine, settings, tmp_path):
    import imageio.v3 as iio

    months = month_range("2020-01", "2020-12")
    climates = tuple((m, ClimateValues(10.0 + m.month, 2.0, 15.0)) for m in months)
    series = generate_time_series(
        TimelapseRequest(base=request(), start=months[0], end=months[-1], climates=climates), tiny_engine, settings
    )
    captions = [caption_for(m, c) for m, c in zip(series.months, series.climates, strict=True)]
    assert captions[0] == "January 2020 · 11.0 °C · 2.0 mm/day · 15.0 MJ/m²/day"
    gif = write_timelapse(series.images, captions, tmp_path / "series.gif", fps=2)
    mp4 = write_timelapse(series.images, captions, tmp_path / "series.mp4", fps=2)
    gif_frames = iio.imread(gif, index=None)
    mp4_frames = iio.imread(mp4, index=None, plugin="FFMPEG")
    assert gif_frames.shape[0] == 12 and mp4_frames.shape[0] == 12
    for decoded, tolerance in ((gif_frames, 40), (mp4_frames, 60)):
        assert decoded.shape[1] > 64 and decoded.shape[2] == 64  # a caption band below the 64 px frame
        for index in (0, 11):
            frame = series.images[index].astype(int)
            picture = decoded[index, :64, :, :3].astype(int)
            assert np.abs(picture - frame).mean() < tolerance  # lossy codecs, same picture
            band = decoded[index, 64:, :, :3]
            # text was drawn: the band is not the plain background colour everywhere
            assert (band.max(axis=2) > 128).sum() > 20
        # different captions (months) give different bands
        assert not np.array_equal(decoded[0, 64:], decoded[5, 64:])
    assert leftovers(tmp_path) == []


def test_caption_band_and_side_by_side():
    frame = np.full((64, 64, 3), 100, np.uint8)
    composed = compose_frame(frame, "March 2021 · 21.4 °C")
    assert composed.shape[1] == 64 and composed.shape[0] % 16 == 0 and composed.shape[0] > 64
    np.testing.assert_array_equal(composed[:64], frame)
    bare = compose_frame(frame, "")
    assert not np.array_equal(composed[64:], bare[64 : composed.shape[0]])
    real = np.full((64, 64, 3), 200, np.uint8)
    pair = compose_frame(frame, "March 2021", real=real)
    assert pair.shape[1] == 128
    np.testing.assert_array_equal(pair[:64, :64], real)
    np.testing.assert_array_equal(pair[:64, 64:], frame)


@pytest.mark.parametrize("size_px", [64, 128, 512])
def test_caption_fits_inside_the_frame_at_every_size(size_px):
    # Text cut at the right edge shows up as bright pixels in the band's right margin column.
    climate = ClimateValues(temp_c=-17.3, precip_mm_day=12.8, solar_mj_m2_day=23.4)
    caption = caption_for(Month(2021, 9), climate, label="tiny-random: noise")
    frame = np.zeros((size_px, size_px, 3), np.uint8)
    composed = compose_frame(frame, caption)
    band = composed[size_px:]
    assert band.max() > 200, "the caption was not drawn"
    assert band[:, -1].max() < 100, "caption text runs past the right edge"
    # The last line ends inside the band: its bottom rows are background.
    assert band[-1].max() < 100


def test_captions_of_different_lengths_give_frames_of_one_size(tmp_path):
    # A short and a long caption on a narrow frame: a video needs every frame the same size.
    import imageio.v3 as iio

    long = caption_for(Month(2021, 9), ClimateValues(-17.3, 12.8, 23.4), label="tiny-random: noise")
    frames = [np.zeros((64, 64, 3), np.uint8)] * 2
    path = write_timelapse(frames, ["May 2020", long], tmp_path / "mixed.mp4")
    decoded = iio.imread(path, index=None)
    assert decoded.shape[0] == 2 and decoded.shape[2] == 64 and decoded.shape[1] > 64


def test_side_by_side_gif(tmp_path):
    import imageio.v3 as iio

    frames = [np.full((64, 64, 3), v, np.uint8) for v in (30, 90, 150)]
    reals = [np.full((64, 64, 3), 220, np.uint8), None, np.full((64, 64, 3), 220, np.uint8)]
    path = write_timelapse(frames, ["a", "b", "c"], tmp_path / "pair.gif", side_by_side=reals)
    decoded = iio.imread(path, index=None)
    assert decoded.shape[0] == 3 and decoded.shape[2] == 128
    assert decoded[0, 10, 10, :3].min() > 200 and decoded[1, 10, 10, :3].max() < 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (dict(frames=[], captions=[], path="x.gif"), "No frames"),
        (dict(captions=["a"], path="x.gif"), "2 frames but 1 captions"),
        (dict(captions=["a", "b"], path="x.avi"), "Name the file .gif or .mp4"),
        (dict(captions=["a", "b"], path="x.gif", fps=0), "frame rate 0"),
        (
            dict(
                frames=[np.zeros((64, 64, 3), np.uint8), np.zeros((32, 32, 3), np.uint8)],
                captions=["a", "b"],
                path="x.mp4",
            ),
            "differ in size",
        ),
        (dict(frames=[np.zeros((64, 64), np.uint8)] * 2, captions=["a", "b"], path="x.gif"), "not an 8-bit RGB"),
    ],
)
def test_bad_timelapse_input_writes_nothing(tmp_path, args, message):
    args = {"frames": [np.zeros((64, 64, 3), np.uint8)] * 2, **args}
    args["path"] = tmp_path / args["path"]
    with pytest.raises(BadRequestError, match=message):
        write_timelapse(**args)
    assert list(tmp_path.iterdir()) == []


WRITE_UNDER_SIZE_LIMIT = """
import resource, signal, sys
import numpy as np
from core.export.timelapse import write_timelapse
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # exceeding the limit raises OSError instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))
rng = np.random.default_rng(0)
frames = [rng.integers(0, 256, (256, 256, 3), dtype=np.uint8) for _ in range(6)]
try:
    write_timelapse(frames, [str(i) for i in range(6)], sys.argv[1])
except Exception as err:
    print(type(err).__name__)
    sys.exit(3)
"""


@pytest.mark.parametrize("name", ["anim.gif", "anim.mp4"])
def test_failed_write_leaves_nothing(tmp_path, name):
    import subprocess
    import sys

    from tests.conftest import REPO

    # the file-size limit makes the encoder fail half-way through writing
    done = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_SIZE_LIMIT, str(tmp_path / name)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_png_metadata_and_recipe_regenerate_exactly(tiny_engine, settings, tmp_path):
    result = generate_images(request(seed=21), tiny_engine, settings)
    png = write_png(result.image, tmp_path / "out.png", result_metadata(result))
    meta = read_png_metadata(png)
    assert meta["prompt"] == result.prompts.spatial
    assert meta["climate_prompt"] == result.prompts.climate
    assert meta["seed"] == "21" and meta["model"] == "tiny-random"
    assert "produces noise" in json.loads(meta["warnings"])[0]
    assert json.loads(meta["climate"]) == {"temp_c": 21.4, "precip_mm_day": 3.2, "solar_mj_m2_day": 19.9}
    from PIL import Image

    with Image.open(png) as img:
        np.testing.assert_array_equal(np.asarray(img), result.image)

    recipe = write_recipe(result.request, tmp_path / "recipe.json", result.model_info)
    again_request = read_recipe(recipe)
    assert again_request == result.request
    spec = read_recipe_model(recipe)
    assert spec == ModelSpec("tiny-random")
    again = generate_images(again_request, Engine.load(spec, settings), settings)
    np.testing.assert_array_equal(again.image, result.image)
    # the PNG's embedded recipe is the same recipe
    assert json.loads(meta["ecomapper"])["request"] == json.loads(recipe.read_text())["request"]


def test_recipe_keeps_the_control_image(tiny_engine, settings, tmp_path):
    control = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    result = generate_images(request(mode="controlnet", control_image=control), tiny_engine, settings)
    path = write_recipe(result.request, tmp_path / "r.json", result.model_info)
    np.testing.assert_array_equal(read_recipe(path).control_image, control)


def test_bad_recipes(tmp_path):
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(BadRequestError, match="not readable JSON"):
        read_recipe(tmp_path / "junk.json")
    (tmp_path / "other.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(BadRequestError, match="not an EcoMapper Studio recipe"):
        read_recipe(tmp_path / "other.json")
    write_recipe(request(), tmp_path / "ok.json")
    data = json.loads((tmp_path / "ok.json").read_text())
    data["request"]["num_inference_steps"] = 0
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(BadRequestError, match="number of steps 0"):
        read_recipe(tmp_path / "bad.json")
    del data["request"]["seed"]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(BadRequestError, match="seed"):
        read_recipe(tmp_path / "bad.json")
    with pytest.raises(BadRequestError, match="does not exist"):
        read_recipe(tmp_path / "missing.json")
    for mangled in ("###", "bm90IGEgcG5n"):  # not base64; base64 of "not a png"
        data = json.loads((tmp_path / "ok.json").read_text())
        data["request"]["control_image_png_base64"] = mangled
        (tmp_path / "bad.json").write_text(json.dumps(data))
        with pytest.raises(BadRequestError, match="control image that is not a base64 PNG"):
            read_recipe(tmp_path / "bad.json")


def test_geotiff_carries_the_footprint(tmp_path):
    import rasterio

    image = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    crs, transform = footprint_georeference(KENYA, 64)
    path = write_geotiff(image, tmp_path / "out.tif", crs, transform, tags={"prompt": "a satellite image"})
    footprint = Footprint.around(KENYA)
    with rasterio.open(path) as src:
        assert src.crs.to_string() == footprint.crs == "EPSG:32737"
        assert src.transform.a == 80.0 and src.transform.e == -80.0  # 5120 m / 64 px
        assert tuple(src.bounds) == pytest.approx(footprint.bounds)
        np.testing.assert_array_equal(np.moveaxis(src.read(), 0, 2), image)
        assert src.tags()["prompt"] == "a satellite image"
    with pytest.raises(BadRequestError, match="CRS 'EPSG:0'"):
        write_geotiff(image, tmp_path / "bad.tif", "EPSG:0", transform)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tif"]
    with pytest.raises(BadRequestError, match="uint8 H x W x 3"):
        write_png(image.astype(np.float32), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
