"""CMIP6 climate projections (tas, pr, rsds) at a place, by the delta method on NASA POWER normals.

See docs/cmip6.md for the data layout relied on, and `project.py` for the steps. Importing the
package is light: zarr and xarray load with the first projection.
"""

from importlib import import_module

from core.sources.projections.periods import (
    BASELINE_YEARS,
    NAMED_HORIZONS,
    SSPS,
    STATISTICS,
    Period,
    check_ssp,
    check_statistic,
    period_for,
)

_LAZY = {
    "ModelProjection": "project",
    "Projection": "project",
    "model_projection": "project",
    "observed_normals": "project",
    "project_climate": "project",
    "project_region": "region",
    "RegionProjection": "region",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"core.sources.projections.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BASELINE_YEARS",
    "NAMED_HORIZONS",
    "SSPS",
    "STATISTICS",
    "ModelProjection",
    "Period",
    "Projection",
    "RegionProjection",
    "check_ssp",
    "check_statistic",
    "model_projection",
    "observed_normals",
    "period_for",
    "project_climate",
    "project_region",
]
