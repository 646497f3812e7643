"""The matplotlib chart of a place's monthly climate over recent years (Climate tab), with the scenario
of the sliders marked on the observed month."""

from __future__ import annotations

from datetime import date

import numpy as np

# (variable in the climate dataset, axis label, line colour)
_PANELS = (
    ("temp_c", "Temperature (°C)", "#d62728"),
    ("precip_mm_day", "Precipitation\n(mm/day)", "#1f77b4"),
    ("solar_mj_m2_day", "Solar radiation\n(MJ/m²/day)", "#ff7f0e"),
)
SCENARIO_COLOUR = "#111111"


def climate_figure(climate, highlight: date | None = None, title: str = "", scenario=None):
    """Three stacked panels (temperature, precipitation, solar radiation) against time.

    Args:
        climate: the `xarray.Dataset` from `core.sources.climate.fetch_climate` (dims `time`).
        highlight: the first day of the selected month, marked with a vertical line.
        title: the figure title (usually the place and the period).
        scenario: (label, climate values) of the scenario: drawn as a labelled star on the selected
            month of each panel, so the chart shows how far the scenario moves the month.

    Returns:
        A `matplotlib.figure.Figure` (built without pyplot, so it is safe in worker threads).
    """
    from matplotlib.figure import Figure

    times = np.asarray(climate["time"].values).astype("datetime64[D]").astype(object)
    # Wide and short: the chart sits beside the month's numbers without the tab scrolling at 1366 x 768.
    figure = Figure(figsize=(6.4, 3.5), layout="constrained")
    axes = figure.subplots(len(_PANELS), 1, sharex=True)
    for axis, (name, label, colour) in zip(axes, _PANELS, strict=True):
        if name in climate:
            values = np.asarray(climate[name].values, dtype=float)
            axis.plot(times, values, color=colour, marker="o", markersize=2, linewidth=1.1)
            if np.isnan(values).all():
                axis.text(0.5, 0.5, "no data", transform=axis.transAxes, ha="center", va="center")
        axis.set_ylabel(label, fontsize=7)
        axis.grid(True, alpha=0.3)
        axis.tick_params(labelsize=7)
        axis.margins(y=0.18)  # room for the scenario's star above or below the series
        if highlight is not None:
            axis.axvline(highlight, color="#555", linestyle="--", linewidth=1)
            if scenario is not None:
                _mark_scenario(axis, highlight, scenario, name)
    if title:
        axes[0].set_title(title, fontsize=9)
    return figure


def _mark_scenario(axis, month: date, scenario, name: str) -> None:
    label, values = scenario
    value = getattr(values, name, None)
    if value is None:
        return
    axis.plot([month], [value], marker="*", markersize=11, color=SCENARIO_COLOUR, linestyle="none", label=label)
    axis.annotate(
        f"scenario {value:.1f}", (month, value), xytext=(-6, 0), textcoords="offset points",
        ha="right", va="center", fontsize=7, color=SCENARIO_COLOUR,
    )  # fmt: skip
