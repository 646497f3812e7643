"""Peer generators (tiny random DiffusionSat here) on the one path: the same request and services as SD3."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.export.image_files import read_png_metadata
from core.geo import Month
from core.metrics.suite import MetricSuite
from core.services import (
    GenerationRequest,
    GridRequest,
    ModelSpec,
    TimelapseRequest,
    compare,
    export_image,
    generate,
    load_engine,
    make_grid,
    make_timelapse,
    recipe_request,
)
from tests.support.tiny_generation import tiny_generation_request

OBSERVED = ClimateValues(21.4, 3.2, 19.9)


@pytest.fixture(scope="module")
def diffusionsat():
    from core.config import Settings

    return load_engine(ModelSpec("tiny-diffusionsat"), Settings.from_env())


@pytest.fixture(scope="module")
def weather_diffusionsat():
    from core.config import Settings

    return load_engine(ModelSpec("tiny-diffusionsat-weather"), Settings.from_env())


def request(model: str = "tiny-diffusionsat", **changes) -> GenerationRequest:
    """The shared tiny request (Nairobi, March 2021, 64 px, 2 steps) on a peer generator, under +3 °C, −30 % rain."""
    fields = dict(
        climate=None, observed_climate=OBSERVED, scenario=Scenario.of_change(3.0, -30.0), seed=3, model=ModelSpec(model)
    )
    return tiny_generation_request(**{**fields, **changes})


def test_generate_runs_a_peer_generator_and_records_its_provenance(diffusionsat, settings, tmp_path):
    result = generate(request(), settings, engine=diffusionsat)
    assert result.image.shape == (64, 64, 3) and result.image.dtype == np.uint8
    assert result.result.model_id == "tiny-diffusionsat"
    assert result.label.startswith("AI-generated · noise (tiny test model) · Nairobi, Kenya · March 2021")
    assert result.model_info["ignored"] == ["climate", "scenario"]  # DiffusionSat reads metadata, not climate
    assert "tiny-diffusionsat does not read the climate: a scenario does not change its image." in result.warnings
    assert len(result.model_info["conditioning"]["metadata"]) == 7
    files = export_image(result, tmp_path / "d.png", recipe=tmp_path / "d.recipe.json")
    assert read_png_metadata(files.png)["model"] == "tiny-diffusionsat"
    again = recipe_request(files.recipe)
    assert again.model == ModelSpec("tiny-diffusionsat")
    np.testing.assert_array_equal(generate(again, settings, engine=diffusionsat).image, result.image)


def test_a_peer_generator_refuses_image_modes_and_sd3_adapters_in_one_line(diffusionsat, settings):
    control = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(BadRequestError, match="cannot do mode 'controlnet'") as refused:
        generate(request(mode="controlnet", control_image=control), settings, engine=diffusionsat)
    assert "\n" not in str(refused.value)
    with pytest.raises(BadRequestError, match="a lora cannot be attached"):
        load_engine(ModelSpec("tiny-diffusionsat", lora="some/lora"), settings)


def test_timelapse_and_grid_run_on_a_peer_generator(diffusionsat, settings, tmp_path):
    months = (Month(2021, 1), Month(2021, 2))
    climates = ((months[0], OBSERVED), (months[1], ClimateValues(22.0, 2.0, 20.5)))
    series = TimelapseRequest(
        base=request(scenario=Scenario.today()),
        start=months[0],
        end=months[1],
        scenario=Scenario.of_change(2.0),
        climates=climates,
    )
    done = make_timelapse(series, tmp_path / "t.gif", settings, engine=diffusionsat)
    assert done.path.is_file() and [f.request.month for f in done.series.frames] == list(months)
    assert [f.request.climate.temp_c for f in done.series.frames] == [23.4, 24.0]
    assert all("+2 °C" in caption for caption in done.captions)

    grid = make_grid(
        GridRequest(base=request(scenario=Scenario.today()), temp_deltas_c=(0.0, 2.0), precip_changes_pct=(0.0,)),
        settings,
        engine=diffusionsat,
        out=tmp_path / "g.png",
    )
    assert [[c.request.climate.temp_c for c in row] for row in grid.cells] == [[21.4], [23.4]]
    # DiffusionSat ignores the climate: every cell is the same picture, as the sheet's "ignored" says
    np.testing.assert_array_equal(grid.cells[0][0].image, grid.cells[1][0].image)


def test_compare_shows_whether_a_generator_reads_the_climate(diffusionsat, weather_diffusionsat, settings):
    real = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    suite = MetricSuite(settings, ("ssim", "psnr"))
    blind = compare(request(), settings, engine=diffusionsat, real_image=real, suite=suite)
    assert blind.difference == 0.0  # same seed, same metadata: the climate changes nothing
    weather = request("tiny-diffusionsat-weather")
    seeing = compare(weather, settings, engine=weather_diffusionsat, real_image=real, suite=suite)
    assert seeing.difference > 0.0  # its weather scalars reach the UNet


@pytest.mark.slow
def test_the_cli_generates_timelapses_and_grids_with_a_peer_generator(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    common = ["--model", "tiny-diffusionsat", "--lat", "-1.5", "--lon", "36.8", "--temp", "21", "--precip", "3",
              "--rad", "20", "--land-cover", "Croplands", "--steps", "2", "--size", "64", "--state", "Nairobi",
              "--country", "Kenya"]  # fmt: skip
    runs = {
        "generate": ["generate", *common, "--month", "2021-03", "--temp-delta", "2", "--out", str(tmp_path / "g.png")],
        "timelapse": ["timelapse", *common, "--start", "2021-01", "--end", "2021-02", "--out", str(tmp_path / "t.gif")],
        "grid": ["grid", *common, "--month", "2021-03", "--temp-deltas", "0,2", "--precip-changes", "0",
                 "--out", str(tmp_path / "grid.png")],
    }  # fmt: skip
    for name, argv in runs.items():
        done = subprocess.run(
            [sys.executable, "-m", "core", *argv], cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (name, done.stderr[-1500:])
    summary = json.loads(subprocess.run(
        [sys.executable, "-m", "core", *runs["generate"]], cwd=REPO, capture_output=True, text=True, timeout=300
    ).stdout)  # fmt: skip
    assert summary["model"] == "tiny-diffusionsat" and summary["scenario"] == "+2 °C"
    assert (tmp_path / "t.gif").stat().st_size > 0 and (tmp_path / "grid.png").stat().st_size > 0
    refused = subprocess.run(
        [sys.executable, "-m", "core", "generate", *common, "--month", "2021-03", "--control-month", "2021-01",
         "--out", str(tmp_path / "c.png")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert refused.returncode == 2 and "cannot do mode 'controlnet'" in refused.stderr
    assert refused.stderr.count("\n") == 1
