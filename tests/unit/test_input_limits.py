"""Bad inputs refused up front with one message: limits, output paths, oversized images, recipes,
locations CSVs, settings, training configs, and the shared server's model policy and export folder."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from core import limits
from core.config import Settings
from core.errors import BadRequestError
from core.io.images import ImageTooLargeError, read_rgb
from core.io.outputs import check_free_disk, check_output_dir, check_output_file
from core.model_policy import ModelPolicy, NotAllowedError
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared


def png_bomb(path: Path, side: int) -> Path:
    """A 1-bit side x side PNG: a few kB on disk, side^2 pixels once decoded."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


# ------------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        (limits.IMAGE_SIZE_PX, 100000, "--size = 100_000 is outside 64..1024 px, a multiple of 16"),
        (limits.IMAGE_SIZE_PX, 7, "--size = 7 is outside 64..1024 px"),
        (limits.IMAGE_SIZE_PX, 520, "--size = 520 is not a multiple of 16 (allowed: 64..1024 px"),
        (limits.GUIDANCE_SCALE, math.nan, "--size = nan is not a finite number (allowed: 0..30)"),
        (limits.FRAMES_PER_SECOND, 0, "--size = 0 is outside 0.2..30 fps"),
        (limits.TRAIN_SEED, -1, "outside 0..4_294_967_295"),
        (limits.TRAIN_SEED, 2**64, "outside 0..4_294_967_295"),
        (limits.INFERENCE_STEPS, 2.5, "is not a whole number"),
        (limits.INFERENCE_STEPS, "10", "is not a number"),
        (limits.INFERENCE_STEPS, True, "is not a number"),
    ],
)
def test_a_limit_names_the_field_and_the_range(limit, value, message):
    with pytest.raises(BadRequestError, match=re.escape(message)):
        limit.check("--size", value)


def test_values_inside_a_limit_come_back_typed():
    assert limits.IMAGE_SIZE_PX.check("--size", 512) == 512
    assert limits.INFERENCE_STEPS.check("--steps", 50.0) == 50 and isinstance(
        limits.INFERENCE_STEPS.check("--steps", 50.0), int
    )
    assert limits.GUIDANCE_SCALE.check("--guidance", 7.5) == 7.5
    # every named limit is a real range with a description
    assert all(limit.low <= limit.high and limit.describe() for _, limit in limits.table())


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ECOMAPPER_TIMEOUT_S": "nan"}, "ECOMAPPER_TIMEOUT_S = nan is not a finite number"),
        ({"ECOMAPPER_TIMEOUT_S": "inf"}, "ECOMAPPER_TIMEOUT_S = inf is not a finite number"),
        ({"ECOMAPPER_TIMEOUT_S": "0"}, "outside 0.1..600 s"),
        ({"ECOMAPPER_RETRIES": "1000"}, "ECOMAPPER_RETRIES = 1000 is outside 0..20"),
        ({"ECOMAPPER_FRESH_MONTH_TTL_S": "-1"}, "ECOMAPPER_FRESH_MONTH_TTL_S = -1 is outside"),
    ],
)
def test_settings_out_of_range_are_refused(env, message):
    with pytest.raises(BadRequestError, match=message):
        Settings.from_env(env)


def test_a_cache_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadRequestError, match="ECOMAPPER_CACHE_DIR=.* is not a folder"):
        Settings.from_env({"ECOMAPPER_CACHE_DIR": str(tmp_path / "file")})


# ------------------------------------------------------------------------------- outputs


def test_output_files_are_checked_before_work(tmp_path):
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(BadRequestError, match="--out .*folder.png is a folder, not a file"):
        check_output_file(tmp_path / "folder.png", "--out", (".png",))
    with pytest.raises(BadRequestError, match="afile is a file, so the folder"):
        check_output_file(tmp_path / "afile" / "x.png", "--out", (".png",))
    with pytest.raises(BadRequestError, match="'s.jpg' does not end in .png; the format follows the extension"):
        check_output_file(tmp_path / "s.jpg", "--out", (".png",))
    assert check_output_file(tmp_path / "new" / "deeper" / "x.PNG", "--out", (".png",)).name == "x.PNG"
    with pytest.raises(BadRequestError, match="afile is a file, not a folder"):
        check_output_dir(tmp_path / "afile", "--out")
    assert check_output_dir(tmp_path / "new-dir", "--out") == tmp_path / "new-dir"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder.png"]  # nothing was created


def test_free_disk_is_checked_against_the_estimate(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    check_free_disk(tmp_path, 1000, "--out")
    with pytest.raises(BadRequestError, match="are needed but only .* are free"):
        check_free_disk(tmp_path / "not-yet", free + 1, "--out")


# ------------------------------------------------------------------------------- images


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path):
    # 5000 x 5000 passes PIL's own bomb check but not ours; 20000 x 20000 trips PIL's
    for side in (5000, 20000):
        bomb = png_bomb(tmp_path / f"bomb{side}.png", side)
        assert bomb.stat().st_size < 200_000
        with pytest.raises(ImageTooLargeError, match="too large|over the limit"):
            read_rgb(bomb, "control image")
        with pytest.raises(ImageTooLargeError):
            read_rgb(bomb.read_bytes(), "upload")


def test_a_control_image_bomb_and_a_tiny_control_image_get_clear_messages(tmp_path):
    from PIL import Image

    from core.commands._generation_args import read_control_image

    with pytest.raises(ImageTooLargeError):
        read_control_image(str(png_bomb(tmp_path / "bomb.png", 5000)), 512)
    Image.new("RGB", (1, 1)).save(tmp_path / "one.png")
    with pytest.raises(BadRequestError) as caught:
        read_control_image(str(tmp_path / "one.png"), 512)
    assert "--size 1" not in str(caught.value) and "allowed: 64..1024 px" in str(caught.value)


# ------------------------------------------------------------------------------- recipes


def _recipe(tmp_path: Path, name: str, **changes) -> Path:
    from core.climate.values import ClimateValues
    from core.export.image_files import write_recipe
    from core.generation.request import GenerationRequest
    from core.geo import Month, Point

    request = GenerationRequest(
        point=Point(24.8, -11.4),
        month=Month(2020, 2),
        land_cover="Barren or Sparsely Vegetated",
        climate=ClimateValues(20.0, 0.1, 20.0),
        country="Mauritania",
    )
    path = write_recipe(request, tmp_path / name, {"model_id": "tiny-random"})
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "model":
            data["model"] = value
        else:
            data["request"][key] = value
    path.write_text(json.dumps(data))
    return path


def test_bad_recipes_are_one_clear_error(tmp_path):
    from core.export.image_files import read_recipe, read_recipe_model

    (tmp_path / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BadRequestError, match="nested too deeply"):
        read_recipe(tmp_path / "nested.json")
    with pytest.raises(BadRequestError, match="model part that is a list"):
        read_recipe_model(_recipe(tmp_path, "list.json", model=["tiny-random"]))
    bomb = base64.b64encode(png_bomb(tmp_path / "b.png", 5000).read_bytes()).decode()
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        read_recipe(_recipe(tmp_path, "bomb.json", mode="controlnet", control_image_png_base64=bomb))
    with pytest.raises(BadRequestError, match="lat"):
        read_recipe(_recipe(tmp_path, "lat.json", lat="north"))
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (limits.MAX_RECIPE_BYTES + 1))
    with pytest.raises(BadRequestError, match="over the limit"):
        read_recipe(big)


# ------------------------------------------------------------------------------- datasets


def test_a_bomb_in_a_dataset_is_skipped_with_its_reason(tmp_path):
    from core.dataset.reader import read_dataset

    example = require_shared(ECOMAPPER_EXAMPLE)
    shutil.copytree(example / "2017-2018" / "1", tmp_path / "1")
    victim = sorted((tmp_path / "1").glob("*.png"))[3]
    victim.unlink()
    png_bomb(victim, 20000)
    dataset = read_dataset(tmp_path)
    reasons = {item.path.name: item.reason for item in dataset.skipped}
    assert "image too large" in reasons[victim.name]
    assert len(dataset) > 10  # the rest is used


def test_a_binary_locations_csv_is_refused(tmp_path):
    from core.dataset.builder import read_locations_csv

    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(BadRequestError, match="is not a text CSV"):
        read_locations_csv(tmp_path / "bin.csv")
    (tmp_path / "nul.csv").write_bytes(b"lat,lon\n1,\x002\n")
    with pytest.raises(BadRequestError, match="nul.csv:2: lat/lon .* are not numbers"):
        read_locations_csv(tmp_path / "nul.csv")


# ------------------------------------------------------------------------------- training configs


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("seed = 0", "seed = -1"), r"seed = -1 is outside 0\.\.4_294_967_295"),
        (("seed = 0", f"seed = {2**64}"), "seed = 18_446_744_073_709_551_616 is outside"),
        (("resolution_px = 64", "resolution_px = 100000"), r"\[data\] resolution_px = 100_000 is outside 64\.\.1024"),
        (("batch_size = 2", "batch_size = 100000"), r"\[optim\] batch_size = 100_000 is outside 1\.\.256"),
        (("alpha = 4.0", "alpha = nan"), r"\[lora\] alpha = nan is not a finite number"),
        (("learning_rate = 1e-2", "learning_rate = inf"), r"\[optim\] learning_rate = inf"),
    ],
)
def test_training_config_numbers_are_checked(tmp_path, change, message):
    from core.train import load_train_config

    text = (Path(__file__).parents[2] / "assets" / "presets" / "train_lora_tiny.toml").read_text()
    assert change[0] in text
    path = tmp_path / "t.toml"
    path.write_text(text.replace(*change))
    with pytest.raises(BadRequestError, match=message):
        load_train_config(path, check_paths=False)


# ------------------------------------------------------------------------------- the shared server


def test_the_policy_offers_only_what_the_operator_listed(tmp_path):
    checkpoints = Path("/srv/ckpt")
    policy = ModelPolicy.for_server("sd3-medium", checkpoints, loras=("owner/lora",))
    for kind, ref in [("model", "sd3-medium"), ("model", "tiny-random"), ("LoRA", "owner/lora")]:
        policy.check(kind, ref)
    policy.check("model", str(checkpoints / "my-finetune"))  # a folder the operator put there
    messages = set()
    for ref in ("/etc", "/nonexistent/folder", str(checkpoints / ".." / "secret"), "../x", "sd3.5-large", "a/b"):
        with pytest.raises(NotAllowedError) as caught:
            policy.check("model", ref)
        messages.add(str(caught.value).replace(ref, "REF"))
    # the same words whether or not the path exists: no probing of the server's disk
    assert len(messages) == 1, messages
    with pytest.raises(NotAllowedError, match="does not offer the ControlNet"):
        policy.check("ControlNet", "InstantX/SD3-Controlnet-Tile")


def test_load_pipeline_refuses_before_touching_the_disk(tmp_path):
    from core.models import ModelSpec, load_pipeline

    settings = Settings().with_(
        cache_dir=tmp_path / "cache",
        model_policy=ModelPolicy.for_server("tiny-random", tmp_path / "checkpoints"),
    )
    with pytest.raises(NotAllowedError):
        load_pipeline(ModelSpec("/etc"), settings)
    with pytest.raises(NotAllowedError, match="LoRA"):
        load_pipeline(ModelSpec("tiny-random", lora="/etc/passwd"), settings)


def test_an_offered_hub_model_is_not_downloaded_without_the_flag(tmp_path, replay_server):
    from core.errors import ModelUnavailableError
    from core.models.checkpoints import resolve_weights

    settings = Settings().with_(
        cache_dir=tmp_path / "cache",
        checkpoints_dir=tmp_path / "checkpoints",
        hf_endpoint=replay_server.base_url.rstrip("/"),
        model_policy=ModelPolicy.for_server("owner/model", tmp_path / "checkpoints"),
    )
    with pytest.raises(ModelUnavailableError, match="not on this machine"):
        resolve_weights("owner/model", settings, hf_cache_dir=tmp_path / "hf")
    assert replay_server.requests == []  # nothing was asked of the Hub


def test_the_export_folder_is_private_even_if_the_old_fixed_path_was_planted(tmp_path, monkeypatch):
    import tempfile

    from app.ui import default_output_dir

    secret = tmp_path / "secret"
    secret.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "ecomapper-app").symlink_to(secret)  # created first by someone else
    folder = default_output_dir()
    assert folder.parent == tmp_path and folder.name.startswith("ecomapper-app-")
    assert not folder.is_symlink() and folder.resolve() != secret.resolve()
    assert (folder.stat().st_mode & 0o777) == 0o700 and folder.stat().st_uid == os.getuid()
    assert default_output_dir() != folder  # one per process start, never shared


def test_docs_list_every_limit():
    text = (Path(__file__).parents[2] / "docs" / "limits.md").read_text()
    for name, limit in limits.table():
        assert f"| `{name}` | {limit.describe()}" in text, name
