"""`--quality preview`: the model's few-step LoRA with its steps, guidance and scale, and the same seed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main

pytestmark = pytest.mark.slow

PLACE = ["--month", "2021-03", "--lat", "-1.5", "--lon", "36.8", "--land-cover", "Croplands", "--country", "Kenya"]
PLACE += ["--temp", "21.4", "--precip", "3.2", "--rad", "19.9", "--model", "tiny-random", "--size", "64"]


def test_a_preview_runs_the_preview_lora_at_its_steps_with_the_same_seed(tmp_path, monkeypatch, capsys):
    from tests.support.gen_tiny_weights import save_tiny_lora

    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    save_tiny_lora(tmp_path / "checkpoints" / "tiny-preview")  # where the preset looks for it

    assert main(["generate", *PLACE, "--seed", "3", "--quality", "preview", "--out", str(tmp_path / "p.png")]) == 0
    recipe = json.loads((tmp_path / "p.recipe.json").read_text())
    assert recipe["model"]["lora"] == "tiny-preview" and recipe["model"]["lora_scale"] == 1.0
    assert (recipe["request"]["num_inference_steps"], recipe["request"]["guidance_scale"]) == (2, 1.0)
    assert recipe["request"]["seed"] == 3
    # the same request without the LoRA draws another image: the preview really ran the LoRA
    full = ["--seed", "3", "--steps", "2", "--guidance", "1", "--out", str(tmp_path / "f.png")]
    assert main(["generate", *PLACE, *full]) == 0
    preview, plain = (np.asarray(Image.open(tmp_path / name)) for name in ("p.png", "f.png"))
    assert preview.shape == plain.shape and not np.array_equal(preview, plain)
    capsys.readouterr()


def test_a_preview_with_a_lora_or_without_a_preset_is_one_line(tmp_path, capsys):
    out = ["--out", str(tmp_path / "x.png")]
    assert main(["generate", *PLACE, "--quality", "preview", "--lora", "some-lora", *out]) == 2
    assert "--quality preview and --lora both given" in capsys.readouterr().err
    other = [*PLACE[:-4], "--model", "someone/some-model", "--size", "64"]
    assert main(["generate", *other, "--quality", "preview", *out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No preview LoRA or distilled model is known for someone/some-model.")
    assert len(err.splitlines()) == 1


def test_sd35_large_previews_with_its_distilled_turbo_model_not_a_lora(tmp_path, monkeypatch, capsys):
    # offline with empty folders: the refusal names the weights the preview would load
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    large = [*PLACE[:-4], "--model", "sd3.5-large", "--size", "64", "--out", str(tmp_path / "l.png")]
    assert main(["--offline", "generate", *large, "--quality", "preview"]) == 2
    err = capsys.readouterr().err
    assert "stabilityai/stable-diffusion-3.5-large-turbo is not on this machine" in err
    assert "is gated: accept its licence" in err and not (tmp_path / "l.png").exists()
