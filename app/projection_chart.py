"""The chart of a place's projected climate: observed monthly normals, the CMIP6 ensemble median and its spread."""

from __future__ import annotations

MONTH_LETTERS = ("J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D")
# (variable prefix in the table rows, axis label, colour)
_PANELS = (
    ("temp_c", "Temperature (°C)", "#d62728"),
    ("precip_mm_day", "Precipitation (mm/day)", "#1f77b4"),
    ("solar_mj_m2_day", "Solar radiation (MJ/m²/day)", "#ff7f0e"),
)


def projection_figure(rows: list[dict], scenario_label: str, title: str = ""):
    """Three panels over the calendar months: observed normal (grey), ensemble median (colour) and
    the 10th-90th percentile band across models (shaded).

    Args:
        rows: `core.services.ProjectedClimate.monthly_table()` (12 dicts).
        scenario_label: e.g. "SSP2-4.5 2050" (the legend names it).
        title: the figure title.

    Returns:
        A `matplotlib.figure.Figure` (built without pyplot, so it is safe in worker threads).
    """
    from matplotlib.figure import Figure

    months = list(range(1, 13))
    figure = Figure(figsize=(8, 5.4), layout="constrained")
    axes = figure.subplots(len(_PANELS), 1, sharex=True)
    for axis, (name, label, colour) in zip(axes, _PANELS, strict=True):
        axis.fill_between(
            months,
            [row[f"{name}_p10"] for row in rows],
            [row[f"{name}_p90"] for row in rows],
            color=colour,
            alpha=0.2,
            linewidth=0,
            label="10-90 % of models",
        )
        axis.plot(months, [row[f"{name}_observed"] for row in rows], color="#555", marker="o", markersize=2.5,
                  linewidth=1.2, label="observed normal")  # fmt: skip
        axis.plot(months, [row[f"{name}_median"] for row in rows], color=colour, marker="o", markersize=2.5,
                  linewidth=1.6, label=f"{scenario_label} (median)")  # fmt: skip
        axis.set_ylabel(label, fontsize=8)
        axis.grid(True, alpha=0.3)
        axis.tick_params(labelsize=8)
    axes[-1].set_xticks(months, MONTH_LETTERS)
    axes[0].legend(fontsize=7, loc="best")
    if title:
        axes[0].set_title(title, fontsize=10)
    return figure
