"""`generate --mode edit|invert` and `--samples N` with tiny-random at the Sahara replay point (2020-02)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main

SAHARA = ["--lat", "24.8", "--lon", "-11.4", "--model", "tiny-random", "--steps", "4", "--size", "64"]
SCENARIO = ["--temp-delta", "6", "--precip-change=-70"]


@pytest.fixture
def replay_env(monkeypatch, tmp_path, replay_server):
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    for key, value in replay_server.env().items():
        monkeypatch.setenv(key, value)
    return tmp_path


def generate(capsys, out, *args) -> dict:
    code = main(["generate", *SAHARA, *[str(a) for a in args], "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


@pytest.mark.slow
def test_edit_without_scenario_is_img2img_at_strength_zero_and_a_scenario_moves_it(replay_env, capsys):
    tmp = replay_env
    same = generate(capsys, tmp / "edit.png", "--month", "2020-02", "--mode", "edit")
    generate(capsys, tmp / "start.png", "--month", "2020-02", "--mode", "img2img", "--strength", "0")
    moved = generate(capsys, tmp / "moved.png", "--month", "2020-02", "--mode", "edit", *SCENARIO)
    assert same["mode"] == "edit" and same["warnings"] == [w for w in same["warnings"] if "earlier" not in w]
    assert np.abs(pixels(tmp / "edit.png") - pixels(tmp / "start.png")).max() <= 3
    assert np.abs(pixels(tmp / "moved.png") - pixels(tmp / "start.png")).mean() > 2.0
    assert moved["climate"] != moved["observed_climate"]
    recipe = json.loads((tmp / "moved.recipe.json").read_text())["request"]
    assert recipe["mode"] == "edit" and recipe["edit"]["n_avg"] == 1 and recipe["scenario"]["temp_delta_c"] == 6
    # the recipe makes the same pixels again (same model, same device)
    code = main(["generate", "--recipe", str(tmp / "moved.recipe.json"), "--out", str(tmp / "again.png")])
    capsys.readouterr()
    assert code == 0
    np.testing.assert_array_equal(pixels(tmp / "again.png"), pixels(tmp / "moved.png"))


@pytest.mark.slow
def test_a_month_without_a_scene_edits_the_nearest_earlier_one_and_says_so(replay_env, capsys):
    summary = generate(capsys, replay_env / "march.png", "--month", "2020-03", "--mode", "invert", *SCENARIO)
    assert any("2020-02, 1 month(s) earlier" in w for w in summary["warnings"]), summary["warnings"]
    recipe = json.loads((replay_env / "march.recipe.json").read_text())["request"]
    assert recipe["control_month"] == "2020-02" and recipe["mode"] == "invert"


def test_edit_options_outside_edit_modes_are_refused_in_one_line(capsys, tmp_path):
    code = main(["--offline", "generate", *SAHARA, "--month", "2020-02", "--land-cover", "Grasslands",
                 "--country", "Morocco", "--n-max", "3", "--out", str(tmp_path / "x.png")])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "--mode edit or invert" in err and not (tmp_path / "x.png").exists()
