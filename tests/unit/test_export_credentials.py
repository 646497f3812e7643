"""Content credentials: exports carry a signed C2PA manifest with the recipe when a key is configured,
say why not otherwise, and `verify` reads back what a file claims."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.export.image_files import read_png_metadata
from core.generation.runs import GenerationResult
from core.services import export_image, verify_image
from tests.support.tiny_generation import tiny_generation_request

pytest.importorskip("c2pa")


def result() -> GenerationResult:
    request = tiny_generation_request(seed=11)
    image = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return GenerationResult(
        images=[image],
        prompts=request.prompts(),
        seed=11,
        model_id="tiny-random",
        timings_s={},
        request=request,
        model_info={"model_id": "tiny-random"},
    )


@pytest.fixture
def signing(settings, tmp_path):
    from tests.support.c2pa_keys import write_test_signer

    chain, key = write_test_signer(tmp_path / "keys")
    return settings.with_(c2pa_cert=str(chain), c2pa_key=str(key))


def test_without_a_key_the_export_says_so_and_verify_finds_no_manifest(settings, tmp_path):
    files = export_image(result(), tmp_path / "plain.png", settings=settings)
    assert "no signing key configured" in files.credentials and "ECOMAPPER_C2PA_KEY" in files.credentials
    claims = verify_image(files.png)
    assert claims["manifest"] is False
    assert read_png_metadata(files.png)["seed"] == "11"  # the label and recipe metadata are still there


def test_signed_png_and_geotiff_carry_the_recipe(signing, tmp_path):
    made = result()
    files = export_image(made, tmp_path / "signed.png", geotiff=tmp_path / "signed.tif", settings=signing)
    assert files.credentials == "content credentials signed (C2PA, es256)"
    for path in (files.png, files.geotiff):
        claims = verify_image(path)
        assert claims["manifest"] and claims["validation_state"] == "Valid"
        # the test CA is on no trust list: valid, and said to be untrusted
        assert claims["failures"] == ["signingCredential.untrusted: signing certificate untrusted"]
        assert claims["signer"]["common_name"] == "EcoMapper test signer"
        assert claims["recipe"]["request"]["seed"] == 11 and claims["recipe"]["model"]["model_id"] == "tiny-random"
        assert claims["actions"][0]["digitalSourceType"].endswith("trainedAlgorithmicMedia")
    # signing adds a chunk; pixels and our own metadata are untouched
    np.testing.assert_array_equal(np.asarray(Image.open(files.png)), made.image)
    assert read_png_metadata(files.png)["seed"] == "11"


def test_a_changed_pixel_breaks_the_signature(signing, tmp_path):
    files = export_image(result(), tmp_path / "signed.png", settings=signing)
    data = bytearray(files.png.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # inside the compressed pixels
    files.png.write_bytes(bytes(data))
    claims = verify_image(files.png)
    assert claims["manifest"] and claims["validation_state"] == "Invalid"
    assert any("mismatch" in failure for failure in claims["failures"]), claims["failures"]


def test_generate_then_verify_on_the_command_line(signing, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_C2PA_CERT", signing.c2pa_cert)
    monkeypatch.setenv("ECOMAPPER_C2PA_KEY", signing.c2pa_key)
    out = tmp_path / "gen.png"
    code = main(
        [
            "--offline",
            "generate",
            "--lat",
            "-1.5",
            "--lon",
            "36.8",
            "--land-cover",
            "Croplands",
            "--country",
            "Kenya",
            "--temp",
            "21",
            "--precip",
            "3",
            "--rad",
            "20",
            "--month",
            "2021-03",
            "--model",
            "tiny-random",
            "--steps",
            "2",
            "--size",
            "64",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["credentials"].startswith("content credentials signed")
    assert main(["verify", str(out)]) == 0
    claims = json.loads(capsys.readouterr().out)
    assert claims["recipe"]["request"]["seed"] == 3 and claims["validation_state"] == "Valid"
    plain = tmp_path / "plain.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(plain)
    assert main(["verify", str(plain)]) == 1
    assert json.loads(capsys.readouterr().out)["manifest"] is False


def test_band_geotiffs_of_a_multispectral_result_are_signed_too(signing, tmp_path):
    """COP-GEN's 4-band GeoTIFF and its NDVI are generated images as much as the RGB preview."""
    from dataclasses import replace

    from core.models.backends.base import Bands

    rng = np.random.default_rng(2)
    arrays = {name: rng.uniform(0.0, 0.5, (32, 32)).astype(np.float32) for name in ("B04", "B03", "B02", "B08")}
    made = replace(result(), bands=Bands(arrays, m_per_px=10.0))
    files = export_image(made, tmp_path / "bands.png", settings=signing)
    assert files.ndvi is not None and files.credentials == "content credentials signed (C2PA, es256)"
    for path in (files.png, files.geotiff, files.ndvi):
        claims = verify_image(path)
        assert claims["manifest"] and claims["validation_state"] == "Valid", path
