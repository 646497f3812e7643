"""core.services with tiny-random: generate, exports, compare, time-lapse and grid keep the provenance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.export.image_files import read_png_metadata, read_recipe
from core.geo import Month, Point
from core.metrics.suite import MetricSuite
from core.services import (
    GenerationRequest,
    GridRequest,
    ModelSpec,
    TimelapseRequest,
    compare,
    export_image,
    generate,
    labelled_image,
    load_engine,
    make_grid,
    make_timelapse,
    recipe_request,
)

KENYA = Point(-1.5, 36.8)
OBSERVED = ClimateValues(21.4, 3.2, 19.9)
HOT_DRY = Scenario.of_change(3.0, -30.0)


@pytest.fixture(scope="module")
def engine():
    return load_engine(ModelSpec("tiny-random"), Settings.from_env())


def request(**changes) -> GenerationRequest:
    fields = dict(
        point=KENYA,
        month=Month(2021, 3),
        land_cover="Croplands",
        observed_climate=OBSERVED,
        scenario=HOT_DRY,
        seed=3,
        num_inference_steps=2,
        size_px=64,
        state="Nairobi",
        country="Kenya",
        model=ModelSpec("tiny-random"),
    )
    fields.update(changes)
    return GenerationRequest(**fields)


def test_the_request_keeps_observed_climate_and_scenario_and_derives_the_final_one():
    req = request()
    assert req.observed_climate == OBSERVED and req.scenario == HOT_DRY
    assert req.climate == ClimateValues(24.4, 2.24, 19.9)
    assert "was 24 C. with an average precipitation 2 mm" in req.prompts().climate
    assert req.replace(scenario=Scenario.today()).climate == OBSERVED
    with pytest.raises(BadRequestError, match="is not the observed climate under the scenario"):
        request(climate=OBSERVED)
    with pytest.raises(BadRequestError, match="has no observed climate to change"):
        request(observed_climate=None)
    with pytest.raises(BadRequestError, match="is not a ModelSpec"):
        request(model="tiny-random")


def test_generate_labels_the_image_and_records_every_part_of_its_provenance(engine, settings, tmp_path):
    result = generate(request(), settings, engine=engine)
    assert result.label == "AI-generated · noise (tiny test model) · Nairobi, Kenya · March 2021 · +3 °C, −30 % rain"
    record = result.provenance.as_dict()
    assert record["observed_climate"] == {"temp_c": 21.4, "precip_mm_day": 3.2, "solar_mj_m2_day": 19.9}
    assert record["final_climate"] == {"temp_c": 24.4, "precip_mm_day": 2.24, "solar_mj_m2_day": 19.9}
    assert record["scenario"]["label"] == "+3 °C, −30 % rain"
    assert (record["model_id"], record["seed"], record["mode"], record["noise"]) == ("tiny-random", 3, "text", True)

    files = export_image(result, tmp_path / "x.png", recipe=tmp_path / "x.recipe.json", geotiff=tmp_path / "x.tif")
    meta = read_png_metadata(files.png)
    assert meta["ai_generated"] == "true" and meta["label"] == result.label
    assert json.loads(meta["observed_climate"])["temp_c"] == 21.4
    assert json.loads(meta["scenario"])["precip_change_pct"] == -30.0
    assert json.loads(meta["climate"])["precip_mm_day"] == 2.24
    assert meta["mode"] == "text" and meta["seed"] == "3" and meta["model"] == "tiny-random"

    import rasterio

    with rasterio.open(files.geotiff) as src:
        tags = src.tags()
    assert tags["TIFFTAG_IMAGEDESCRIPTION"] == result.label and tags["ai_generated"] == "true"
    assert json.loads(tags["observed_climate"]) == record["observed_climate"]
    assert json.loads(tags["final_climate"]) == record["final_climate"]
    assert Scenario.from_dict(json.loads(tags["scenario"])) == HOT_DRY
    assert (tags["model"], tags["seed"], tags["mode"], tags["noise"]) == ("tiny-random", "3", "text", "true")

    # the recipe round-trips the scenario and regenerates the same pixels
    again = recipe_request(files.recipe)
    assert again == request() and again.scenario == HOT_DRY
    np.testing.assert_array_equal(generate(again, settings, engine=engine).image, result.image)
    # the labelled export carries the mark under the unchanged pixels
    marked = labelled_image(result)
    assert marked.shape[0] > 64 and np.array_equal(marked[:64, :64], result.image)


def test_recipe_numbers_are_rounded_to_display_precision(engine, settings, tmp_path):
    # 0.98 * 1.1 = 1.0780000000000001 and 7.3 + 0.1 = 7.3999999999999995 in floating point
    req = request(observed_climate=ClimateValues(7.3, 0.98, 15.0), scenario=Scenario.of_change(0.1, 10.0))
    result = generate(req, settings, engine=engine)
    text = export_image(result, tmp_path / "r.png", recipe=tmp_path / "r.json").recipe.read_text()
    assert '"precip_mm_day": 1.08' in text and '"temp_c": 7.4' in text
    assert "00000" not in text and "99999" not in text
    assert read_recipe(tmp_path / "r.json").climate == ClimateValues(7.4, 1.08, 15.0)


def test_a_version_1_recipe_still_reads_as_today(engine, settings, tmp_path):
    result = generate(request(scenario=Scenario.today()), settings, engine=engine)
    path = export_image(result, tmp_path / "v1.png", recipe=tmp_path / "v1.json").recipe
    data = json.loads(path.read_text())
    data["version"] = 1
    for key in ("observed_climate", "scenario"):
        del data["request"][key]
    path.write_text(json.dumps(data))
    old = read_recipe(path)
    assert old.scenario.is_today and old.climate == OBSERVED and old.observed_climate is None


def test_compare_uses_one_seed_for_today_and_the_scenario(engine, settings):
    real = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    suite = MetricSuite(settings, ("ssim", "psnr"))
    seen = compare(request(), settings, engine=engine, real_image=real, suite=suite)
    assert seen.today.request.seed == seen.scenario.request.seed == 3
    assert seen.today.request.climate == OBSERVED and seen.scenario.request.climate == request().climate
    assert seen.today.label.endswith("March 2021 · today")
    assert seen.difference > 0  # the climate prompt changes the image
    assert seen.versus_today["ssim"] < 1.0 and np.isfinite(seen.versus_today["psnr"])
    for name, result in (("today", seen.today), ("scenario", seen.scenario)):
        expected, _ = suite.score(real, result.image, result.prompts.spatial)
        assert seen.values[name] == expected
        assert seen.metrics[name]["SSIM (higher is closer)"] == expected["ssim"]
    assert "higher is closer" in seen.how_to_read


def test_compare_without_a_real_image_says_why(engine, data_settings):
    sahara = request(point=Point(24.8, -11.4), month=Month(2020, 3), country="Morocco", state=None,
                     land_cover="Barren or Sparsely Vegetated")  # fmt: skip
    seen = compare(sahara, data_settings, engine=engine)
    assert seen.real is None and "2020-03" in seen.real_problem and seen.metrics == {}


def test_timelapse_frames_are_captioned_with_the_mark_place_and_scenario(engine, settings, tmp_path):
    import imageio.v3 as iio

    months = [Month(2021, m) for m in (1, 2, 3)]
    climates = tuple((m, ClimateValues(20.0 + m.month, 2.0, 18.0)) for m in months)
    req = TimelapseRequest(
        base=request(scenario=Scenario.today()), start=months[0], end=months[-1], scenario=HOT_DRY, climates=climates
    )
    done = make_timelapse(req, tmp_path / "t.gif", settings, engine=engine, frames_dir=tmp_path / "frames")
    assert iio.imread(done.path, index=None).shape[0] == 3
    assert done.captions[1] == (
        "February 2021 · 25.0 °C · 1.4 mm/day · 18.0 MJ/m²/day\n"
        "AI-generated · noise (tiny test model) · Nairobi, Kenya · +3 °C, −30 % rain"
    )
    assert [p.observed_climate for p in done.provenances] == [c for _, c in climates]
    meta = read_png_metadata(tmp_path / "frames" / "2021-02.png")
    assert json.loads(meta["scenario"])["temp_delta_c"] == 3.0


def test_grid_has_headers_and_keeps_rows_whole(engine, settings, tmp_path):
    req = GridRequest(base=request(scenario=Scenario.today()), temp_deltas_c=(0, 2), precip_changes_pct=(-30, 0))
    grid = make_grid(req, settings, engine=engine, out=tmp_path / "grid.png")
    assert grid.row_labels == ("±0 °C", "+2 °C") and grid.column_labels == ("−30 % rain", "±0 % rain")
    assert [[p.scenario.label for p in row] for row in grid.provenances] == [
        ["−30 % rain", "today"],
        ["+2 °C, −30 % rain", "+2 °C"],
    ]
    height, width = grid.image.shape[:2]
    assert width > 2 * 64 and height > 2 * 64 and width - 2 * 64 < 200 and height - 2 * 64 < 200
    # the cells sit in a 2 x 2 block at the bottom right, in row order
    block = grid.image[height - 128 :, width - 128 :]
    np.testing.assert_array_equal(block[64:, :64], grid.cells[1][0].image)
    assert "AI-generated" in read_png_metadata(tmp_path / "grid.png")["label"]


def test_a_request_without_a_country_is_named_by_the_boundary_that_contains_the_point(engine, settings, tmp_path):
    from tests.unit.test_data_boundaries_place_names import PORT_DU_RHIN, write_boundaries

    file = tmp_path / "admin1.geojson"
    write_boundaries(file)
    with_file = settings.with_(boundaries_url=str(file))
    unnamed = request(point=PORT_DU_RHIN, state=None, country="")
    assert (unnamed.with_place(with_file).state, unnamed.with_place(with_file).country) == ("Grand Est", "France")
    # without settings the nearest town is Kehl (Germany), but the country comes from its polygon: France
    assert unnamed.with_place().country == "France"
    result = generate(unnamed, with_file, engine=engine)
    assert (result.result.request.state, result.result.request.country) == ("Grand Est", "France")
    assert "Grand Est, France" in result.label
