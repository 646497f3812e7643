"""The scenario controls: presets for class use, the two change sliders, and the line that says which
climate the model will be asked for. A picked CMIP6 projection shows in them too (its preset, the
sliders' labels), and a preset or slider the user then touches replaces it, clearing the Future picker."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from app import formatting
from app.forms import PRESETS, ObservedClimateForm, read_scenario
from core import services
from core.climate.scenario import Scenario
from core.errors import BadRequestError, EcoMapperError

CUSTOM_PRESET = "Custom"
PROJECTION_CLEARED = (
    "The projection is no longer used: a preset or the sliders replaced it (pick an SSP again to use it)."
)


def _preset_label(preset: Scenario) -> str:
    """'Today', '+2 °C', '+4 °C, −30 % rain', '+30 % rain' (the numbers say it; the name is in the labels)."""
    return "Today" if preset.is_today else preset.change.label()


def preset_labels() -> list[str]:
    """The presets for class use ('Today', '+2 °C', '+3 °C', '+4 °C, −30 % rain', ...), then 'Custom'."""
    return [_preset_label(p) for p in PRESETS] + [CUSTOM_PRESET]


def preset_label_for(temp_delta_c: Any, precip_pct: Any) -> str:
    """The preset whose change the two numbers are, else 'Custom'."""
    try:
        scenario = read_scenario(temp_delta_c, precip_pct)
    except BadRequestError:
        return CUSTOM_PRESET
    return _preset_label(scenario) if scenario in PRESETS else CUSTOM_PRESET


def preset_script() -> str:
    """The browser's own preset -> sliders step (`js=`), so a Generate clicked right after a preset already
    sends the preset's numbers (the server's answer came too late for a quick click, issue 25)."""
    numbers = {_preset_label(p): [p.change.temp_delta_c, p.change.precip_change_pct] for p in PRESETS}
    return f"(preset, temp, precip) => ({json.dumps(numbers, ensure_ascii=False)}[preset] || [temp, precip])"


def projection_shown(label: str, temp_delta_c: float | None, precip_pct: float | None) -> dict[str, Any]:
    """The controls while a projection is in use: its name as the selected preset, the sliders at the
    month's median change (when the month is known) and labelled with it."""
    temp_label, precip_label = formatting.slider_labels(label)
    temp = {} if temp_delta_c is None else {"value": round(temp_delta_c, 1)}
    precip = {} if precip_pct is None else {"value": round(precip_pct)}
    return {
        # in place of 'Custom', so the row keeps its one line at 1366 px
        "preset": gr.update(choices=[*preset_labels()[:-1], label], value=label),
        "temp_delta_c": gr.update(label=temp_label, **temp),
        "precip_pct": gr.update(label=precip_label, **precip),
    }


def _projection_cleared(temp_delta_c: Any, precip_pct: Any) -> dict[str, Any]:
    """The controls back to the sliders' own scenario (the Future picker on 'Sliders (no projection)')."""
    temp_label, precip_label = formatting.slider_labels()
    return {
        "ssp": "",
        "preset": gr.update(choices=preset_labels(), value=preset_label_for(temp_delta_c, precip_pct)),
        "temp_delta_c": gr.update(label=temp_label, value=temp_delta_c),
        "precip_pct": gr.update(label=precip_label, value=precip_pct),
        "projection_summary": PROJECTION_CLEARED,
        "projection_chart": None,
    }


def preset_chosen(preset: str, ssp: Any = "") -> dict[str, Any]:
    """A preset sets the two sliders and replaces a picked projection (an unknown label, e.g. 'Custom' or
    the projection's own, leaves everything)."""
    for candidate in PRESETS:
        if _preset_label(candidate) == preset:
            change = candidate.change
            if str(ssp or "").strip():
                return _projection_cleared(change.temp_delta_c, change.precip_change_pct)
            return {"temp_delta_c": change.temp_delta_c, "precip_pct": change.precip_change_pct}
    return gr.skip()


def preset_for_numbers(temp_delta_c: Any, precip_pct: Any, ssp: Any = "") -> dict[str, Any]:
    """Moving a slider selects the matching preset, or 'Custom' (and replaces a picked projection)."""
    if str(ssp or "").strip():
        return _projection_cleared(temp_delta_c, precip_pct)
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


def _shown_scenario(results: Any) -> str | None:
    """The scenario of the images on screen (the last part of their label), None without images."""
    label = getattr(results, "label", "") or ""
    return label.rsplit(" · ", 1)[-1] if label else None


def scenario_line(
    temp_delta_c: Any, precip_pct: Any, temp_c: Any, precip_mm_day: Any, solar_mj_m2_day: Any, ssp: Any = "",
    results: Any = None,
) -> dict:  # fmt: skip
    """The sliders' scenario line; while a projection is picked its own line (written by the picker) stays.

    When the images on screen are of another scenario (a preset clicked after, or during, a run), the
    line says so, so it never reads as the caption of an image of the old scenario.
    """
    if str(ssp or "").strip():
        return gr.skip()
    line = describe_scenario(temp_delta_c, precip_pct, temp_c, precip_mm_day, solar_mj_m2_day)
    shown = _shown_scenario(results)
    try:
        wanted = read_scenario(temp_delta_c, precip_pct).label
    except BadRequestError:
        wanted = None
    if shown is not None and wanted is not None and shown != wanted:
        line += f" · the images show **{shown}**: Generate to update"
    return {"scenario_line": line}
