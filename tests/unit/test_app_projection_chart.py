"""The projected-climate chart draws the observed normals, the ensemble median and the spread it is given."""

import numpy as np

from app.projection_chart import projection_figure


def _rows():
    rows = []
    for month in range(1, 13):
        row = {"month": month}
        for k, name in enumerate(("temp_c", "precip_mm_day", "solar_mj_m2_day")):
            base = 10.0 * (k + 1) + month
            row.update({f"{name}_observed": base, f"{name}_median": base + 2, f"{name}_p10": base + 1,
                        f"{name}_p90": base + 4})  # fmt: skip
        rows.append(row)
    return rows


def test_chart_has_normal_median_and_band_per_variable():
    figure = projection_figure(_rows(), "SSP2-4.5 2050", title="Somewhere")
    axes = figure.get_axes()
    assert len(axes) == 3
    for k, axis in enumerate(axes):
        observed, median = axis.get_lines()
        assert list(observed.get_ydata()) == [10.0 * (k + 1) + m for m in range(1, 13)]
        assert list(median.get_ydata()) == [10.0 * (k + 1) + m + 2 for m in range(1, 13)]
        (band,) = axis.collections
        vertices = np.concatenate([path.vertices for path in band.get_paths()])
        assert vertices[:, 1].min() == 10.0 * (k + 1) + 2 and vertices[:, 1].max() == 10.0 * (k + 1) + 16
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == [
        "10-90 % of models", "observed normal", "SSP2-4.5 2050 (median)",
    ]  # fmt: skip
