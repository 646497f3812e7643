"""The one service layer: what the CLI commands and the app both call (and nothing else of `core`).

One module per job: `observe` (place, month -> image, climate, land cover, place; each on its own),
`generate`, `compare` (today vs scenario, metrics), `timelapse`, `grid` (scenario grid), `exports`
(PNG, GeoTIFF, recipe), `models` (the model spec and loading it). Requests and results are frozen
dataclasses; the app may also use the plain value types listed in docs/interfaces.md.
Importing this package does not import torch.
"""

from core.scenario import SCENARIO_PRESETS, ClimateChange, Scenario
from core.services.generate import GenerateRequest, GenerateResult, control_month_before, generate
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

__all__ = [
    "MODEL_IDS",
    "MODES",
    "SCENARIO_PRESETS",
    "TINY_MODEL_ID",
    "ClimateChange",
    "GenerateRequest",
    "GenerateResult",
    "ModelSpec",
    "Observation",
    "Scenario",
    "climate_series",
    "control_month_before",
    "default_timelapse_range",
    "fetch_real_scene",
    "generate",
    "land_cover_at",
    "latest_month",
    "load_engine",
    "model_choices",
    "observe",
    "observed_climate",
    "place_of",
    "search_places",
    "weights_status",
]
