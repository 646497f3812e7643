"""Formatting helpers, the map picker's template and value, the model banner and status."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app import formatting
from app.map_picker import DEFAULT_LEAFLET_URL, MAP_CLICK_EVENT, build_map, leaflet_head, leaflet_url, map_value
from core.geo import Footprint, Point
from core.services import weights_status


def test_numbers_and_percentages_are_rounded_with_units_and_missing_values_show_a_dash():
    assert formatting.format_number(21.456, 1, "°C") == "21.5 °C"
    assert formatting.format_number(float("nan")) == "—"
    assert formatting.format_number(None) == "—"
    assert formatting.format_percent(0.1234) == "12 %"
    assert formatting.format_percent(float("inf")) == "—"
    assert formatting.format_climate(20.04, 1.234, 18.26) == "20.0 °C · 1.23 mm/day · 18.3 MJ/m²/day"


def test_timings_drop_the_unit_suffix_of_their_keys_and_keep_the_order():
    text = formatting.format_timings({"encode_s": 0.049, "denoise_s": 4.2, "total_s": 4.25})
    assert text == "encode 0.05 s, denoise 4.20 s, total 4.25 s"


def _scene(**changes):
    from types import SimpleNamespace

    values = dict(
        acquired=datetime(2020, 2, 19, 11, 21, tzinfo=timezone.utc),
        scene_id="S2A_29RKH_20200219_0_L2A",
        cloud_fraction=0.031,
        nodata_fraction=0.001,
        provider="earth-search",
    )
    values.update(changes)
    return SimpleNamespace(**values)


def test_observation_text_names_date_scene_and_cloud_and_hides_tiny_nodata():
    text = formatting.format_observation(
        point_label="24.8000°N, 11.4000°W",
        place_label="Dakhla, Western Sahara",
        month="2020-02",
        scene=_scene(),
        scene_problem="",
        climate_line=None,
        land_cover_line="Barren or Sparsely Vegetated (modis)",
    )
    assert "2020-02-19 11:21 UTC" in text
    assert "`S2A_29RKH_20200219_0_L2A`" in text
    assert "Cloud cover over the footprint: 3 %" in text
    assert "No-data" not in text
    assert "not available" in text


def test_a_month_without_a_scene_still_shows_its_climate_and_land_cover_on_one_line():
    from core.climate.values import ClimateValues

    climate = ClimateValues(31.25, 0.0412, 24.96)
    line = formatting.observed_line("2021-06", None, climate, "Barren or Sparsely Vegetated")
    assert "no Sentinel-2 image this month" in line
    assert "31.2 °C · 0.04 mm/day · 25.0 MJ/m²/day" in line and "Barren or Sparsely Vegetated" in line
    with_scene = formatting.observed_line("2020-02", _scene(), None, None)
    assert "Sentinel-2 2020-02-19, 3 % cloud" in with_scene and "no climate" in with_scene
    assert "choose a land cover" in with_scene
    # the boxes show the climate at their display precision, and are empty without one
    assert formatting.climate_boxes(climate) == ("31.2", "0.04", "25.0")
    assert formatting.climate_boxes(None) == ("", "", "")


def test_file_names_name_the_scenario_and_only_the_tiny_model_is_noise():
    from core.climate.scenario import Scenario

    assert formatting.scenario_stem(Scenario.today()) == "today"
    assert formatting.scenario_stem(Scenario.of_change(2, -30)) == "t+2_p-30"
    assert formatting.is_noise("tiny-random") and not formatting.is_noise("sd3-medium")


def test_file_names_keep_only_safe_characters():
    stem = formatting.safe_filename("24.8000N_11.4000W", "2020-02", "seed 7", "a/b")
    assert stem == "24.8000N_11.4000W_2020-02_seed-7_a-b"
    assert formatting.safe_filename("", None) == "ecomapper"
    assert formatting.point_stem(-1.5, 36.25) == "1.5000S_36.2500E"


def test_the_user_notice_is_short_and_the_how_to_goes_to_whoever_runs_the_server():
    tiny = formatting.model_notice("tiny-random", None)
    assert "noise" in tiny and "download" not in tiny and "HF_TOKEN" not in tiny
    missing = formatting.model_notice("sd3-medium", False)
    assert "not available on this server" in missing and "HF_TOKEN" not in missing
    assert formatting.model_notice("sd3-medium", True) == "" and formatting.model_notice("sd3-medium", None) == ""
    operator = formatting.operator_message("sd3-medium", False, "Not in the cache.")
    assert "not on this machine" in operator and "Not in the cache." in operator and "HF_TOKEN" in operator
    assert "python -m core download" in formatting.operator_message("sd3-medium", False)
    assert formatting.operator_message("sd3-medium", True) == ""


def test_weights_status_checks_the_folder_is_a_complete_pipeline_without_downloading(tmp_path: Path, settings):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"vae": ["diffusers", "AutoencoderKL"]}))
    present, detail = weights_status(str(folder), settings)
    assert present is False and "vae" in detail  # listed but absent
    (folder / "vae").mkdir()
    (folder / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"x")
    assert weights_status(str(folder), settings) == (True, "")
    assert weights_status("tiny-random", settings) == (None, "")
    # offline (the guard closes the Hub) and not in checkpoints/: missing, with the reason
    present, detail = weights_status("sd3-medium", settings.with_(checkpoints_dir=tmp_path / "none", offline=True))
    assert present is False and "sd3-medium" in detail


def test_map_template_is_static_and_the_click_event_becomes_a_listener():
    component = build_map("http://127.0.0.1:1/leaflet")
    # ${value} in the template would re-render the component and wipe Leaflet's DOM.
    assert "${value}" not in component.html_template
    assert f"trigger('{MAP_CLICK_EVENT}'" in component.js_on_load
    assert callable(component.map_click)
    assert 'src="http://127.0.0.1:1/leaflet/leaflet.js"' in component.head
    assert leaflet_head("x").count("x/leaflet") == 2


def test_leaflet_url_comes_from_the_environment_or_the_cdn():
    assert leaflet_url({}) == DEFAULT_LEAFLET_URL
    assert leaflet_url({"ECOMAPPER_LEAFLET_URL": "http://127.0.0.1:9/dist/"}) == "http://127.0.0.1:9/dist"


def test_map_value_carries_the_footprint_polygon_of_5_12_km():
    point = Point(24.8, -11.4)
    footprint = Footprint.around(point)
    state = json.loads(map_value(point.lat, point.lon, footprint.geojson(), fly=True))
    assert state["lat"] == 24.8 and state["fly"] is True
    ring = state["footprint"]["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    height_km = (max(lats) - min(lats)) * 111.32
    width_km = (max(lons) - min(lons)) * 111.32 * math.cos(math.radians(24.8))
    # the bbox of a 5.12 km UTM square is a little larger than the square (grid convergence)
    assert 5.1 < height_km < 5.4
    assert 5.1 < width_km < 5.4
    assert min(lons) < -11.4 < max(lons) and min(lats) < 24.8 < max(lats)


@pytest.mark.parametrize("bad", ["", "   "])
def test_place_search_rejects_an_empty_name(bad):
    from core.errors import BadRequestError
    from core.sources.place_search import search_places

    with pytest.raises(BadRequestError, match="empty"):
        search_places(bad)


def test_place_search_is_accent_and_case_insensitive_and_ranks_exact_populous_first():
    from core.sources.place_search import search_places

    best = search_places("NAIROBI")[0]
    assert (best.name, best.country) == ("Nairobi", "Kenya")
    assert abs(best.lat + 1.28) < 0.1 and abs(best.lon - 36.82) < 0.1
    assert search_places("sao paulo")[0].label() == "São Paulo, São Paulo, Brazil"
    texas = search_places("Paris, US", limit=3)
    assert texas and all(m.country_code == "US" for m in texas)
    assert search_places("Paris")[0].country_code == "FR"
    assert search_places("Xqzzyplace") == []
