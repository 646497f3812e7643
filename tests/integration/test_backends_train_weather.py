"""`python -m core train` on a diffusionsat-weather config: tiny DiffusionSat widened to 10 scalars, then used."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from core.cli import main
from core.climate.values import ClimateValues
from core.config import Settings
from core.generation.request import GenerationRequest
from core.geo import Point
from core.models.backends import load_backend
from core.models.backends.diffusionsat import build_tiny_diffusionsat_pipeline
from core.train.diffusionsat_weather import widen_to_weather
from tests.conftest import ECOMAPPER_EXAMPLE, REPO, require_shared

pytestmark = pytest.mark.slow


def test_widened_unet_starts_as_the_published_one():
    unet = build_tiny_diffusionsat_pipeline().unet
    wide = widen_to_weather(unet)
    assert wide.config.num_metadata == 10
    sample, text = torch.randn(1, 4, 8, 8), torch.randn(1, 77, 32)
    md = torch.rand(1, 7) * 1000
    with torch.no_grad():
        before = unet(sample, 5, text, metadata=md).sample
        after = wide(sample, 5, text, metadata=torch.cat([md, torch.rand(1, 3) * 1000], dim=1)).sample
    torch.testing.assert_close(before, after)  # the new embeddings output zeros at step 0


def test_train_cli_writes_a_loadable_weather_model(tmp_path, monkeypatch, capsys):
    example = require_shared(ECOMAPPER_EXAMPLE)
    checkpoints = tmp_path / "checkpoints"
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(checkpoints))
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_DEVICE", "cpu")
    out = tmp_path / "run"
    preset = REPO / "assets" / "presets" / "train_diffusionsat_weather_tiny.toml"
    code = main(["train", "--config", str(preset), "--data-dir", str(example), "--output-dir", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "trained diffusionsat-weather 2 steps" in printed
    losses = (out / "loss.csv").read_text().splitlines()
    assert losses[0] == "step,loss" and len(losses) == 3
    assert json.loads((out / "unet" / "config.json").read_text())["num_metadata"] == 10

    shutil.copytree(out, checkpoints / "diffusionsat-weather")
    settings = Settings.from_env().with_(offline=True)
    backend = load_backend("diffusionsat-weather", settings)
    request = GenerationRequest(
        point=Point(55.95, -3.19), month="2020-07", land_cover="Grasslands", country="United Kingdom",
        climate=ClimateValues(15.0, 2.0, 17.0), size_px=64, num_inference_steps=2,
    )  # fmt: skip
    result = backend.generate(request)
    assert len(result.conditioning["metadata"]) == 10 and result.ignored == ()
    hotter = backend.generate(request.replace(climate=ClimateValues(35.0, 2.0, 17.0)))
    assert not np.array_equal(result.image, hotter.image)
