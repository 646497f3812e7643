"""The scenario controls (issue 25): a +3 °C preset, a picked projection shown in the preset and sliders,
a preset or slider that replaces it clearing the Future picker, and export names that keep the sign."""

from __future__ import annotations

from app import formatting
from app.handlers.scenario import (
    PROJECTION_CLEARED,
    preset_chosen,
    preset_for_numbers,
    preset_labels,
    projection_shown,
    scenario_line,
)
from core.climate.scenario import Scenario


def _stem(scenario: Scenario) -> str:
    return formatting.safe_filename("24.8000N_11.4000W", "2020-02", "seed7", formatting.scenario_stem(scenario))


def test_export_names_keep_the_sign_of_the_change_and_differ_per_scenario():
    warmer, cooler = _stem(Scenario.of_change(2, -30)), _stem(Scenario.of_change(-2, -30))
    assert warmer == "24.8000N_11.4000W_2020-02_seed7_t+2_p-30"
    assert cooler.endswith("_t-2_p-30")
    assert _stem(Scenario.of_change(0, 30)).endswith("_t+0_p+30")
    assert len({warmer, cooler, _stem(Scenario.today())}) == 3


def test_the_presets_offer_plus_3_degrees_between_plus_2_and_plus_4():
    labels = preset_labels()
    assert labels[:3] == ["Today", "+2 °C", "+3 °C"] and labels[-1] == "Custom"
    assert preset_chosen("+3 °C") == {"temp_delta_c": 3.0, "precip_pct": 0.0}
    assert preset_for_numbers(3, 0) == {"preset": "+3 °C"}


def test_a_picked_projection_is_the_selected_preset_and_names_the_sliders():
    shown = projection_shown("SSP2-4.5 2050", 1.87, -12.4)
    assert shown["preset"]["value"] == "SSP2-4.5 2050" and shown["preset"]["choices"][-1] == "SSP2-4.5 2050"
    assert len(shown["preset"]["choices"]) == len(preset_labels())  # in place of 'Custom': one line of presets
    assert shown["temp_delta_c"]["value"] == 1.9 and shown["precip_pct"]["value"] == -12
    assert shown["temp_delta_c"]["label"] == "Temperature change (°C) · SSP2-4.5 2050"
    # While it is picked, slider changes leave the projection's scenario line alone.
    assert scenario_line(1.9, -12, 20, 1, 20, ssp="ssp245")["__type__"] == "update"
    assert "scenario_line" not in scenario_line(1.9, -12, 20, 1, 20, ssp="ssp245")


def test_a_preset_or_slider_that_replaces_the_projection_clears_the_future_picker():
    replaced = preset_chosen("+2 °C", ssp="ssp245")
    assert replaced["ssp"] == ""
    assert replaced["temp_delta_c"]["value"] == 2.0 and replaced["precip_pct"]["value"] == 0.0
    assert replaced["temp_delta_c"]["label"] == "Temperature change (°C)"
    assert replaced["preset"]["value"] == "+2 °C" and "SSP2-4.5 2050" not in replaced["preset"]["choices"]
    assert replaced["projection_summary"] == PROJECTION_CLEARED and replaced["projection_chart"] is None
    moved = preset_for_numbers(4, -30, ssp="ssp245")
    assert moved["ssp"] == "" and moved["preset"]["value"] == "+4 °C, −30 % rain"
    # Without a projection a preset only sets the sliders.
    assert preset_chosen("+2 °C", ssp="") == {"temp_delta_c": 2.0, "precip_pct": 0.0}


def test_the_default_timelapse_range_ends_at_the_picked_month():
    from app.handlers.series import timelapse_range_for

    assert timelapse_range_for("2020-02") == {"start": "2019-03", "end": "2020-02"}
    assert timelapse_range_for("")["__type__"] == "update"  # no month yet: the range is left as it is


def _results(label: str):
    from app.state import GeneratedResults

    return GeneratedResults(
        lat=24.8, lon=-11.4, month="2020-02", footprint=None, bbox=(0.0, 0.0, 1.0, 1.0), image_path="x.png",
        label=f"AI-generated · noise (tiny test model) · Tiris Zemmour, Mauritania · February 2020 · {label}",
    )  # fmt: skip


def test_the_scenario_line_never_reads_as_the_caption_of_images_of_another_scenario():
    hot = _results("Hot and dry (+4 °C, −30 % rain)")
    same = scenario_line(4, -30, 28.0, 1.54, 20.4, results=hot)["scenario_line"]
    assert same.startswith("Scenario: **Hot and dry") and "images show" not in same
    other = scenario_line(2, 0, 28.0, 1.54, 20.4, results=hot)["scenario_line"]
    assert other.startswith("Scenario: **Warmer (+2 °C)**")
    assert other.endswith(" · the images show **Hot and dry (+4 °C, −30 % rain)**: Generate to update")
    assert "images show" not in scenario_line(2, 0, 28.0, 1.54, 20.4, results=None)["scenario_line"]


def test_a_click_while_a_run_is_going_says_busy_instead_of_vanishing(monkeypatch):
    from types import SimpleNamespace

    from app.handlers import runs
    from app.state import CancelRegistry

    toasts = []
    monkeypatch.setattr(runs.gr, "Info", lambda message, **options: toasts.append((message, options)))
    cancels = CancelRegistry()
    handlers = runs.RunHandlers(SimpleNamespace(cancels=cancels))
    request = SimpleNamespace(session_hash="s1")
    assert handlers.run_clicked(request) == {} and toasts == []
    job = cancels.start("s1")
    assert handlers.run_clicked(request)["status"].startswith("⏳ Busy: a run is going. Your click runs when it ends")
    assert toasts == [(runs.BUSY, {"duration": runs.TOAST_S})]  # closes by itself: the line says it too
    cancels.finish("s1", job)
    assert handlers.run_clicked(request) == {}


def test_a_failed_observation_ends_observing_with_its_cause_in_the_observed_line(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from app.handlers import observe
    from core.errors import UpstreamError

    def refused(*_args, **_kwargs):
        raise UpstreamError("NASA POWER did not answer (connection refused).", "Try again in a minute.")

    monkeypatch.setattr(observe.services, "observe", refused)
    handlers = observe.ObserveHandlers(SimpleNamespace(settings=None, output_folder=lambda _name: tmp_path))
    shown = handlers.observe_if_picked(24.8, -11.4, "2020-02", progress=lambda *a, **k: None)
    # styled as a refusal (app.errors.refusal_line), like every area's refused action
    cause = "Not observed: NASA POWER did not answer (connection refused). Try again in a minute."
    assert shown == {"observed_line": f'<span class="refusal" title="{cause}">⚠️ {cause}</span>'}
