"""The app's per-process model holder, per-session cancel flags, and the scenario controls' values."""

from __future__ import annotations

import threading

import numpy as np

from app.forms import read_number_list
from app.handlers import scenario
from app.state import CancelRegistry, EngineHolder, Observation


def test_the_model_loads_once_per_spec_and_a_new_spec_replaces_it(settings):
    loads = []

    def loader(spec, settings_, progress=None):
        loads.append(spec)
        if progress:
            progress(1, 1, f"loaded {spec}")
        return f"engine:{spec}"

    holder = EngineHolder(loader)
    assert holder.loaded_spec is None  # nothing at construction
    seen = []
    assert holder.get("a", settings, progress=lambda *a: seen.append(a)) == "engine:a"
    assert holder.get("a", settings) == "engine:a"
    assert holder.get("b", settings) == "engine:b"
    assert loads == ["a", "b"] and holder.loaded_spec == "b"
    assert seen == [(1, 1, "loaded a")]


def test_concurrent_first_uses_load_the_model_only_once(settings):
    calls = []
    gate = threading.Event()

    def slow_loader(spec, settings_, progress=None):
        calls.append(spec)
        gate.wait(2)
        return object()

    holder = EngineHolder(slow_loader)
    results = []
    threads = [threading.Thread(target=lambda: results.append(holder.get("x", settings))) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_cancel_sets_only_the_running_job_of_that_session():
    registry = CancelRegistry()
    assert registry.cancel("s1") is False
    job1, job2 = registry.start("s1"), registry.start("s2")
    assert registry.cancel("s1") is True
    assert job1.is_set() and not job2.is_set()
    registry.finish("s1", job1)
    assert registry.cancel("s1") is False
    # a finished older job does not remove a newer one's flag
    newer = registry.start("s2")
    registry.finish("s2", job2)
    assert registry.cancel("s2") is True and newer.is_set()


def test_an_observation_matches_only_its_own_point_and_month():
    obs = Observation(24.8, -11.4, "2020-02", np.zeros((2, 2, 3), np.uint8), climate={"temp_c": 21.2})
    assert obs.matches(24.8, -11.4, "2020-02")
    assert not obs.matches(24.8, -11.4, "2020-03") and not obs.matches(24.81, -11.4, "2020-02")


def test_the_scenario_line_shows_the_climate_the_model_will_be_asked_for():
    line = scenario.describe_scenario(4.0, -30.0, "28.0", "1,5", "20.4")
    assert line.startswith("Scenario: **Hot and dry (+4 °C, \u221230 % rain)** \u2192 32.0 °C · 1.05 mm/day")
    assert "today 28.0 °C · 1.50 mm/day" in line
    assert "+2.5 °C" in scenario.describe_scenario(2.5, 0.0, "28", "1", "20")
    assert "comes with the observation" in scenario.describe_scenario(2.0, 0.0, "", "", "")
    assert "observed precipitation" in scenario.describe_scenario(0.0, 0.0, "28", "lots", "20")
    # the event handler names the component it fills
    shown = scenario.scenario_line(
        temp_delta_c=4.0, precip_pct=-30.0, temp_c="28", precip_mm_day="1", solar_mj_m2_day="20"
    )
    assert list(shown) == ["scenario_line"] and "32.0 °C" in shown["scenario_line"]


def test_presets_set_the_sliders_and_moving_a_slider_selects_the_matching_preset():
    import gradio as gr

    labels = scenario.preset_labels()
    assert labels[0] == "Today" and labels[-1] == "Custom"
    assert {"+2 °C", "+4 °C, \u221230 % rain", "+30 % rain"} <= set(labels)
    assert scenario.preset_chosen("+4 °C, \u221230 % rain") == {"temp_delta_c": 4.0, "precip_pct": -30.0}
    assert scenario.preset_chosen("Custom") == gr.skip()  # 'Custom' leaves the sliders where they are
    assert scenario.preset_label_for(2, 0) == "+2 °C" and scenario.preset_label_for(2.5, 0) == "Custom"
    assert scenario.preset_for_numbers(temp_delta_c=4, precip_pct=-30) == {"preset": "+4 °C, \u221230 % rain"}


def test_scenario_lists_accept_commas_semicolons_and_decimal_commas_and_name_the_field():
    import pytest

    from core.errors import BadRequestError

    assert read_number_list("-2, 0, 2", "x") == [-2.0, 0.0, 2.0]
    assert read_number_list("0; 2,5", "x") == [0.0, 2.5]
    with pytest.raises(BadRequestError, match="temperature changes"):
        read_number_list("0, warm", "temperature changes")
    with pytest.raises(BadRequestError, match="empty"):
        read_number_list(" , ", "temperature changes")
    with pytest.raises(BadRequestError, match="at most 4"):
        read_number_list("1, 2, 3, 4, 5", "temperature changes")


def test_our_errors_are_messages_cancel_is_a_quiet_note_and_bugs_a_short_generic_error(caplog):
    import logging

    import gradio as gr
    import pytest

    from app.errors import shown_errors
    from core.errors import CancelledError, NoImageryError

    @shown_errors
    def no_scene():
        raise NoImageryError("No scene in 2021-06.", "Pick another month.")

    @shown_errors
    def cancelled():
        raise CancelledError("Generation cancelled at step 3.", "Start it again when ready.")

    @shown_errors
    def bug():
        raise KeyError("oops")

    with (
        caplog.at_level(logging.INFO, logger="app.errors"),
        pytest.raises(gr.Error, match=r"No scene in 2021-06\. Pick another month\.") as caught,
    ):
        no_scene()
    assert caught.value.print_exception is False  # gradio prints no traceback for it
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].exc_info is None and "\n" not in refused[0].getMessage()
    # a cancelled run is not an error: every output stays as it was
    assert cancelled() == gr.skip()
    with pytest.raises(gr.Error, match="Unexpected error \\(KeyError") as caught:
        bug()
    assert "server log" in str(caught.value)
