"""The one service layer: what the CLI commands and the app both call (and nothing else of `core`).

One module per job: `observe` (place, month -> image, climate, land cover, place; each on its own),
`generate`, `compare` (today vs scenario, metrics), `timelapse`, `grid` (scenario grid), `exports`
(PNG, GeoTIFF, recipe), `models` (the model spec and loading it). Requests and results are frozen
dataclasses; the app may also use the plain value types listed in docs/interfaces.md.
Importing this package does not import torch.
"""

from core.metrics.suite import HOW_TO_READ, MetricSuite
from core.provenance import Provenance, image_label
from core.scenario import SCENARIO_PRESETS, ClimateChange, Scenario
from core.services.compare import Comparison, compare
from core.services.exports import ExportedFiles, export_image, export_stem, labelled_image, recipe_request
from core.services.generate import GenerateRequest, GenerateResult, control_month_before, generate
from core.services.grid import GridRequest, GridResult, compose_grid, make_grid
from core.services.models import MODEL_IDS, MODES, TINY_MODEL_ID, ModelSpec, load_engine, model_choices, weights_status
from core.services.observe import (
    Observation,
    climate_series,
    default_timelapse_range,
    fetch_real_scene,
    land_cover_at,
    latest_month,
    observe,
    observed_climate,
    place_of,
    search_places,
)
from core.services.timelapse import TimelapseRequest, TimelapseResult, make_timelapse, real_frames

__all__ = [
    "HOW_TO_READ",
    "MODEL_IDS",
    "MODES",
    "SCENARIO_PRESETS",
    "TINY_MODEL_ID",
    "ClimateChange",
    "Comparison",
    "ExportedFiles",
    "GenerateRequest",
    "GenerateResult",
    "GridRequest",
    "GridResult",
    "MetricSuite",
    "ModelSpec",
    "Observation",
    "Provenance",
    "Scenario",
    "TimelapseRequest",
    "TimelapseResult",
    "climate_series",
    "compare",
    "compose_grid",
    "control_month_before",
    "default_timelapse_range",
    "export_image",
    "export_stem",
    "fetch_real_scene",
    "generate",
    "image_label",
    "labelled_image",
    "land_cover_at",
    "latest_month",
    "load_engine",
    "make_grid",
    "make_timelapse",
    "model_choices",
    "observe",
    "observed_climate",
    "place_of",
    "real_frames",
    "recipe_request",
    "search_places",
    "weights_status",
]
