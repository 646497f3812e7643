"""CMIP6 climate projections (tas, pr, rsds) at a place, by the delta method on NASA POWER normals.

See docs/cmip6.md for the data layout relied on, and `project.py` for the steps.
"""

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
from core.sources.projections.project import (
    ModelProjection,
    Projection,
    model_projection,
    observed_normals,
    project_climate,
)

__all__ = [
    "BASELINE_YEARS",
    "NAMED_HORIZONS",
    "SSPS",
    "STATISTICS",
    "ModelProjection",
    "Period",
    "Projection",
    "check_ssp",
    "check_statistic",
    "model_projection",
    "observed_normals",
    "period_for",
    "project_climate",
]
