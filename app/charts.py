"""The matplotlib chart of a place's monthly climate over recent years (Observed view)."""

from __future__ import annotations

from datetime import date

import numpy as np

# (variable in the climate dataset, axis label, line colour)
_PANELS = (
    ("temp_c", "Temperature (°C)", "#d62728"),
    ("precip_mm_day", "Precipitation (mm/day)", "#1f77b4"),
    ("solar_mj_m2_day", "Solar radiation (MJ/m²/day)", "#ff7f0e"),
)


def climate_figure(climate, highlight: date | None = None, title: str = ""):
    """Three stacked panels (temperature, precipitation, solar radiation) against time.

    Args:
        climate: the `xarray.Dataset` from `core.sources.climate.fetch_climate` (dims `time`).
        highlight: the first day of the selected month, marked with a vertical line.
        title: the figure title (usually the place and the period).

    Returns:
        A `matplotlib.figure.Figure` (built without pyplot, so it is safe in worker threads).
    """
    from matplotlib.figure import Figure

    times = np.asarray(climate["time"].values).astype("datetime64[D]").astype(object)
    figure = Figure(figsize=(8, 5.4), layout="constrained")
    axes = figure.subplots(len(_PANELS), 1, sharex=True)
    for axis, (name, label, colour) in zip(axes, _PANELS, strict=True):
        if name in climate:
            values = np.asarray(climate[name].values, dtype=float)
            axis.plot(times, values, color=colour, marker="o", markersize=2.5, linewidth=1.2)
            if np.isnan(values).all():
                axis.text(0.5, 0.5, "no data", transform=axis.transAxes, ha="center", va="center")
        axis.set_ylabel(label, fontsize=8)
        axis.grid(True, alpha=0.3)
        axis.tick_params(labelsize=8)
        if highlight is not None:
            axis.axvline(highlight, color="#555", linestyle="--", linewidth=1)
    if title:
        axes[0].set_title(title, fontsize=10)
    return figure
