"""The scenario controls: presets for class use, the two change sliders, and the line that says which
climate the model will be asked for."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.forms import ObservedClimateForm, read_scenario
from core import services
from core.climate.scenario import SCENARIO_PRESETS, Scenario
from core.errors import BadRequestError, EcoMapperError

CUSTOM_PRESET = "Custom"


def _preset_label(preset: Scenario) -> str:
    """'Today', '+2 °C', '+4 °C, −30 % rain', '+30 % rain' (the numbers say it; the name is in the labels)."""
    return "Today" if preset.is_today else preset.change.label()


def preset_labels() -> list[str]:
    """The presets for class use ('Today', '+2 °C', '+4 °C, −30 % rain', ...), then 'Custom'."""
    return [_preset_label(p) for p in SCENARIO_PRESETS] + [CUSTOM_PRESET]


def preset_label_for(temp_delta_c: Any, precip_pct: Any) -> str:
    """The preset whose change the two numbers are, else 'Custom'."""
    try:
        scenario = read_scenario(temp_delta_c, precip_pct)
    except BadRequestError:
        return CUSTOM_PRESET
    return _preset_label(scenario) if scenario in SCENARIO_PRESETS else CUSTOM_PRESET


def preset_chosen(preset: str) -> dict[str, Any]:
    """A preset sets the two sliders (an unknown label, e.g. 'Custom', leaves them)."""
    for candidate in SCENARIO_PRESETS:
        if _preset_label(candidate) == preset:
            return {"temp_delta_c": candidate.change.temp_delta_c, "precip_pct": candidate.change.precip_change_pct}
    return gr.skip()


def preset_for_numbers(temp_delta_c: Any, precip_pct: Any) -> dict[str, str]:
    """Moving a slider selects the matching preset, or 'Custom'."""
    return {"preset": preset_label_for(temp_delta_c, precip_pct)}


def describe_scenario(temp_delta_c: Any, precip_pct: Any, temp_c: Any, precip_mm_day: Any, solar_mj_m2_day: Any) -> str:
    """'Scenario: +4 °C, −30 % rain → 32.0 °C · 1.08 mm/day (today 28.0 °C · 1.54 mm/day)'."""
    try:
        scenario = read_scenario(temp_delta_c, precip_pct)
        today = ObservedClimateForm.read(temp_c, precip_mm_day, solar_mj_m2_day).values()
        if today is None:
            return f"Scenario: **{scenario.label}** (today's climate comes with the observation of the month)"
        final = services.scenario_climate(today, scenario)
    except EcoMapperError as err:
        return f"⚠️ {err}"
    return (
        f"Scenario: **{scenario.label}** → {final.temp_c:.1f} °C · {final.precip_mm_day:.2f} mm/day "
        f"(today {today.temp_c:.1f} °C · {today.precip_mm_day:.2f} mm/day)"
    )


def scenario_line(temp_delta_c: Any, precip_pct: Any, temp_c: Any, precip_mm_day: Any, solar_mj_m2_day: Any) -> dict:
    return {"scenario_line": describe_scenario(temp_delta_c, precip_pct, temp_c, precip_mm_day, solar_mj_m2_day)}
