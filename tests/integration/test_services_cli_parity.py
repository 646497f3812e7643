"""The CLI and the service layer are one code path: the same request gives the same recipe and pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.climate.values import ClimateValues
from core.config import Settings
from core.geo import Month, Point
from core.services import GenerationRequest, ModelSpec, Scenario, export_image, generate


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("ECOMAPPER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "checkpoints"))
    return tmp_path


def test_cli_and_service_write_identical_recipes_for_the_same_request(env, capsys):
    control = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(control).save(env / "control.png")
    code = main(
        [
            *("--offline", "generate", "--lat", "-1.5", "--lon", "36.8", "--month", "2021-03"),
            *("--land-cover", "Croplands", "--country", "Kenya", "--state", "Nairobi", "--cloud", "0.35"),
            *("--temp", "21.4", "--precip", "3.2", "--rad", "19.9"),
            *("--temp-delta", "3", "--precip-change", "-30", "--scenario-name", "Hot and dry"),
            *("--model", "tiny-random", "--steps", "2", "--size", "64", "--seed", "11", "--guidance", "5"),
            *("--control-image", str(env / "control.png"), "--out", str(env / "cli.png")),
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["scenario"] == "Hot and dry (+3 °C, −30 % rain)"

    request = GenerationRequest(
        point=Point(-1.5, 36.8),
        month=Month(2021, 3),
        land_cover="Croplands",
        cloud_fraction=0.35,
        observed_climate=ClimateValues(21.4, 3.2, 19.9),
        scenario=Scenario.of_change(3.0, -30.0, name="Hot and dry"),
        seed=11,
        num_inference_steps=2,
        guidance_scale=5.0,
        size_px=64,
        mode="controlnet",
        control_image=control,
        state="Nairobi",
        country="Kenya",
        model=ModelSpec("tiny-random"),
    )
    settings = Settings.from_env().with_(offline=True)
    result = generate(request, settings)
    files = export_image(result, env / "service.png", recipe=env / "service.recipe.json")

    cli_recipe = json.loads((env / "cli.recipe.json").read_text())
    service_recipe = json.loads(files.recipe.read_text())
    assert cli_recipe == service_recipe
    assert cli_recipe["request"]["scenario"]["label"] == "Hot and dry (+3 °C, −30 % rain)"
    assert cli_recipe["request"]["climate"] == {"temp_c": 24.4, "precip_mm_day": 2.24, "solar_mj_m2_day": 19.9}
    np.testing.assert_array_equal(np.asarray(Image.open(env / "cli.png")), result.image)


def test_compare_command_writes_today_scenario_and_real_with_metrics(env, capsys, replay_server, monkeypatch):
    for key, value in replay_server.env().items():
        monkeypatch.setenv(key, value)
    out = env / "cmp"
    code = main(
        [
            *("compare", "--lat", "24.8", "--lon", "-11.4", "--month", "2020-02"),
            *("--land-cover", "Barren or Sparsely Vegetated", "--temp-delta", "4", "--precip-change", "-30"),
            *("--model", "tiny-random", "--steps", "2", "--size", "64", "--out-dir", str(out)),
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["real.png", "scenario.png", "today.png"]
    # issue 25: `written` is one flat object of kind -> path in every command (it was nested here)
    assert summary["written"] == {
        "today_png": str(out / "today.png"), "today_recipe": str(out / "today.recipe.json"),
        "scenario_png": str(out / "scenario.png"), "scenario_recipe": str(out / "scenario.recipe.json"),
        "real_png": str(out / "real.png"),
    }  # fmt: skip
    assert summary["labels"]["today"].endswith("February 2020 · today")
    assert summary["labels"]["scenario"].endswith("February 2020 · +4 °C, −30 % rain")
    for name in ("today", "scenario"):
        assert set(summary["metrics"][name]) >= {"ssim", "psnr"}
        recipe = json.loads((out / f"{name}.recipe.json").read_text())["request"]
        assert (
            recipe["seed"] == 0
            and recipe["observed_climate"] == json.loads((out / "today.recipe.json").read_text())["request"]["climate"]
        )
    assert summary["difference_today_vs_scenario"] > 0


def test_grid_command_writes_one_headed_image(env, capsys):
    out = env / "grid.png"
    code = main(
        [
            *("--offline", "grid", "--lat", "-1.5", "--lon", "36.8", "--month", "2021-03"),
            *("--land-cover", "Croplands", "--country", "Kenya", "--temp", "21.4", "--precip", "3.2", "--rad", "19.9"),
            *("--temp-deltas", "0,3", "--precip-changes=-30,0", "--model", "tiny-random", "--steps", "2"),
            *("--size", "64", "--out", str(out)),
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["rows"] == ["±0 °C", "+3 °C"] and summary["columns"] == ["−30 % rain", "±0 % rain"]
    assert summary["written"] == {"png": str(out)}  # an object as in every command (it was a bare string)
    assert summary["cells"][1][0] == "+3 °C, −30 % rain"
    assert np.asarray(Image.open(out)).shape[:2] == tuple(summary["size_px"])
