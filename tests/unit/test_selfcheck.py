"""`python -m core selfcheck`: its answer without a GPU or weights, and its full run on tiny-random."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main


def test_selfcheck_says_exactly_what_is_missing_and_how_to_get_it(monkeypatch, tmp_path, capsys):
    import torch

    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    assert main(["--offline", "selfcheck"]) == 1
    out = capsys.readouterr().out
    assert "selfcheck of sd3-medium: NOT RUN" in out
    if not torch.cuda.is_available():
        assert "1. CUDA GPU: torch" in out and "CUDA build of torch" in out
    assert "weights of sd3-medium" in out and "python -m core download --model sd3-medium" in out
    assert (
        "is gated: accept its licence at https://huggingface.co/stabilityai/stable-diffusion-3-medium-diffusers" in out
    )
    for controlnet in ("instantx-tile", "instantx-canny"):
        assert f"ControlNet {controlnet}" in out and f"python -m core download --controlnet {controlnet}" in out
    assert str(tmp_path / "checkpoints" / "sd3-medium") in out  # where a copied folder would be found


def test_sd35_large_has_no_known_controlnet_to_miss(settings, tmp_path):
    from core.services.selfcheck import find_missing

    missing = find_missing("sd3.5-large", settings.with_(offline=True), device="cpu")
    assert [m.what for m in missing] == ["weights of sd3.5-large"]


@pytest.mark.slow
def test_selfcheck_runs_every_mode_on_the_real_scene_with_one_base(replay_server, data_settings, tmp_path):
    from core.services.selfcheck import SELFCHECK_MONTH, SELFCHECK_POINT, contact_sheet, run_selfcheck
    from core.sources.imagery import fetch_scene

    report = run_selfcheck("tiny-random", data_settings, device="cpu", size_px=64, num_inference_steps=1)
    assert [run.label for run in report.runs] == [
        "text [noise]",
        "img2img 0.6 [noise]",
        "controlnet tiny-random [noise]",
    ]
    assert report.load_counts == {"base": 1, "controlnet": 1, "lora": 0}  # one base for all modes
    scene = fetch_scene(SELFCHECK_POINT, SELFCHECK_MONTH, data_settings)
    from PIL import Image

    resized = np.asarray(Image.fromarray(scene.image).resize((64, 64), Image.Resampling.LANCZOS))
    assert np.array_equal(report.real_image, resized)  # the real fixture scene, at the check's size
    sheet = contact_sheet(report)
    assert sheet.shape == (256 + 22, 256 * 4, 3)
    assert any("inpainting skipped" in note for note in report.notes)
    assert not np.array_equal(sheet[22:, :256], sheet[22:, 256:512])  # real | generated differ
    data = json.loads(json.dumps(report.as_dict()))
    assert data["device"] == "cpu" and all(r["seconds_per_step"] > 0 for r in data["runs"])
    assert data["versions"]["torch"] and data["notes"]
