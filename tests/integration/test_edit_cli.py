"""`generate --mode edit|invert` and `--samples N` with tiny-random at the Sahara replay point (2020-02)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main

SAHARA = ["--lat", "24.8", "--lon", "-11.4", "--model", "tiny-random", "--steps", "4", "--size", "64"]
SCENARIO = ["--temp-delta", "6", "--precip-change=-70"]


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
    code = main(
        [
            "--offline",
            "generate",
            *SAHARA,
            "--month",
            "2020-02",
            "--land-cover",
            "Grasslands",
            "--country",
            "Morocco",
            "--n-max",
            "3",
            "--out",
            str(tmp_path / "x.png"),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "--mode edit or invert" in err and not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_samples_write_change_spread_and_statistics(replay_env, capsys):
    tmp = replay_env
    today = generate(capsys, tmp / "today.png", "--month", "2020-02", "--mode", "edit", "--samples", "3")
    hot = generate(capsys, tmp / "hot.png", "--month", "2020-02", "--mode", "edit", "--samples", "3", *SCENARIO)
    for stem in ("today", "hot"):
        assert all((tmp / f"{stem}{suffix}").exists() for suffix in ("-change.png", "-spread.png", "-change.json"))
    still = json.loads((tmp / "today-change.json").read_text())
    assert (still["samples"], still["mean_abs_change"], still["mean_spread"]) == (3, 0.0, 0.0)
    assert still["mean_spread_scenario"] <= 0.5  # every seed's edit of an unchanged climate is the real image
    moved = json.loads((tmp / "hot-change.json").read_text())
    assert moved["mean_abs_change"] > 1.0 and moved["mean_spread"] > 0.5 and moved["seeds"] == [0, 1, 2]
    assert (
        hot["ensemble"]["agreement"] == moved["agreement"] and "samples agree" in hot["ensemble"]["agreement_sentence"]
    )
    # the greenness index of the real February scene, today and the scenario
    green = moved["greenness"]
    assert green["index"] == "ExG" and green["real"] is not None and green["change_scenario_minus_today"] != 0
    assert today["written"]["change_json"] == str(tmp / "today-change.json")


@pytest.mark.slow
def test_compare_timelapse_and_grid_run_in_edit_mode(replay_env, capsys):
    tmp = replay_env
    code = main(["compare", *SAHARA, "--month", "2020-02", "--mode", "edit", *SCENARIO, "--out-dir", str(tmp / "cmp")])
    out = capsys.readouterr().out
    assert code == 0
    seen = json.loads(out)
    assert seen["difference_today_vs_scenario"] > 1.0 and seen["greenness"]["real"] is not None
    code = main(
        [
            "timelapse",
            *SAHARA,
            "--start",
            "2020-02",
            "--end",
            "2020-03",
            "--mode",
            "invert",
            "--land-cover",
            "Barren or Sparsely Vegetated",
            "--country",
            "Morocco",
            "--frames-dir",
            str(tmp / "frames"),
            "--out",
            str(tmp / "edit.gif"),
        ]
    )
    lapse = json.loads(capsys.readouterr().out)
    assert code == 0 and sorted(p.name for p in (tmp / "frames").iterdir()) == ["2020-02.png", "2020-03.png"]
    # each month edits its own scene; March has none and says which month it edited instead
    assert any("No usable scene of 2020-03" in w and "2020-02" in w for w in lapse["warnings"]), lapse["warnings"]
    code = main(
        [
            "grid",
            *SAHARA,
            "--month",
            "2020-02",
            "--mode",
            "edit",
            "--temp-deltas",
            "0,6",
            "--precip-changes=0",
            "--out",
            str(tmp / "grid.png"),
        ]
    )
    grid = json.loads(capsys.readouterr().out)
    assert code == 0 and grid["cells"] == [["today"], ["+6 °C"]]


@pytest.mark.slow
def test_a_grid_of_a_month_without_a_scene_edits_the_nearest_earlier_one_and_says_so(replay_env, capsys):
    code = main(
        ["grid", *SAHARA, "--month", "2020-03", "--mode", "edit", "--temp-deltas", "0,6", "--precip-changes=0",
         "--land-cover", "Barren or Sparsely Vegetated", "--country", "Morocco", "--out", str(replay_env / "g.png")]
    )  # fmt: skip
    grid = json.loads(capsys.readouterr().out)
    assert code == 0 and grid["cells"] == [["today"], ["+6 °C"]]
    assert any("No usable scene of 2020-03" in w and "2020-02, 1 month(s) earlier" in w for w in grid["warnings"])
    # the picture's title says it too, not only the command's output
    assert "edits the real image of 2020-02 (no usable scene of 2020-03)" in grid["title"]
