"""The app's per-process model holder and per-session cancel flags."""

from __future__ import annotations

import threading

import numpy as np

from app.handlers import Handlers, _number_list
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


def test_observed_climate_fills_the_sliders_only_when_asked():
    obs = Observation(24.8, -11.4, "2020-02", np.zeros((2, 2, 3), np.uint8), climate={
        "temp_c": 21.234, "precip_mm_day": 0.0612, "solar_mj_m2_day": 19.96})  # fmt: skip
    assert Handlers.fill_observed_climate(True, obs) == (21.2, 0.06, 20.0)
    skipped = Handlers.fill_observed_climate(False, obs)
    assert all(update == {"__type__": "update"} for update in skipped)
    assert obs.matches(24.8, -11.4, "2020-02") and not obs.matches(24.8, -11.4, "2020-03")


def test_effective_climate_applies_the_scenario_and_explains_bad_values():
    assert Handlers.effective_climate(20.0, 2.0, 18.0, 2.5, -50.0) == (
        "Generation climate: 22.5 °C · 1.00 mm/day · 18.0 MJ/m²/day"
    )
    assert "outside the physical range" in Handlers.effective_climate(59.0, 2.0, 18.0, 5.0, 0.0)


def test_scenario_lists_accept_commas_and_semicolons_and_reject_words():
    import pytest

    from core.errors import BadRequestError

    assert _number_list("-2, 0;2", "x") == [-2.0, 0.0, 2.0]
    with pytest.raises(BadRequestError, match="not a number"):
        _number_list("0, warm", "temperature changes")
    with pytest.raises(BadRequestError, match="empty"):
        _number_list(" , ", "temperature changes")


def test_core_errors_become_gradio_errors_with_the_message_and_others_a_short_generic_one():
    import gradio as gr
    import pytest

    from app.handlers import shown_errors
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

    with pytest.raises(gr.Error, match=r"No scene in 2021-06\. Pick another month\."):
        no_scene()
    with pytest.raises(gr.Error) as caught:
        cancelled()
    assert caught.value.title == "Cancelled"
    with pytest.raises(gr.Error, match="Unexpected error \\(KeyError") as caught:
        bug()
    assert "server log" in str(caught.value)
