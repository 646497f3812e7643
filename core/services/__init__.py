"""The one service layer: what the CLI commands and the app both call (and nothing else of `core`).

One module per job: `observe` (place, month -> image, climate, land cover, place; each on its own),
`generate`, `compare` (today vs scenario, metrics), `ensemble` (N seeds: change, spread, agreement),
`timelapse`, `grid` (scenario grid), `region` (a large area in tiles), `exports` (and `verify_image`:
content credentials),
`projection` (CMIP6 SSP x horizon -> projected climate and its Scenario),
(PNG, GeoTIFF, recipe), `models` (the model spec and loading it), `preview` (the app's quick preview plan),
`gpu` (the GPU option the app applies for the card it finds). Requests and results are frozen
dataclasses; the app may also use the plain value types listed in docs/architecture.md.
Importing this package does not import torch.
"""

from core.climate.scenario import SCENARIO_PRESETS, ClimateChange, Scenario
from core.climate.values import ClimateValues
from core.export.provenance import Provenance, image_label
from core.export.timelapse import caption_for, frame_caption, label_image
from core.generation.request import EditOptions, GenerationRequest, LayoutBox, parse_boxes
from core.metrics.suite import HOW_TO_READ, MetricSuite
from core.services.compare import Comparison, compare
from core.services.compare_models import (
    ModelComparison,
    backend_choices,
    compare_models,
    generator_catalog,
    layout_classes,
    write_comparison_sheet,
)
from core.services.ensemble import EnsembleResult, change_overlay, ensemble_paths, run_ensemble, write_ensemble
from core.services.exports import (
    ExportedFiles,
    export_image,
    export_scene,
    export_stem,
    labelled_image,
    read_rgb_image,
    recipe_request,
    verify_image,
    write_ndvi_preview,
    write_real_png,
)
from core.services.generate import (
    GenerateResult,
    control_month_before,
    diffusionsat_metadata,
    generate,
    prompts_for,
    request_for,
    scenario_climate,
)
from core.services.gpu import GpuPicker
from core.services.grid import GridRequest, GridResult, compose_grid, make_grid
from core.services.models import (
    MODEL_IDS,
    MODES,
    TINY_MODEL_ID,
    ModelSpec,
    controlnet_choices,
    default_controlnet_scale,
    generator_ids,
    load_engine,
    model_choices,
    shared_engine_loader,
    weights_status,
)
from core.services.observe import (
    Observation,
    climate_series,
    default_timelapse_range,
    ensure_on_land,
    fetch_real_scene,
    land_cover_at,
    latest_month,
    observe,
    observed_climate,
    place_of,
    search_places,
)
from core.services.preview import PreviewPlan, preview_hint, preview_plan, with_preview_base
from core.services.projection import HORIZON_CHOICES, SSP_CHOICES, ProjectedClimate, projected_climate
from core.services.region import DEFAULT_METHOD as REGION_DEFAULT_METHOD
from core.services.region import METHOD_NAMES as REGION_METHOD_NAMES
from core.services.region import METHODS as REGION_METHODS
from core.services.region import (
    Region,
    RegionResult,
    check_cluster_region,
    export_region,
    make_region,
    region_from_recipe,
)
from core.services.session_exports import (
    SessionExports,
    create_export_root,
    remove_at_exit,
    sweep_leftover_roots,
)
from core.services.timelapse import TimelapseRequest, TimelapseResult, make_timelapse, real_frames
from core.sources.land_cover_classes import LAND_COVER_CLASSES

__all__ = [
    "HORIZON_CHOICES",
    "HOW_TO_READ",
    "LAND_COVER_CLASSES",
    "MODEL_IDS",
    "MODES",
    "REGION_DEFAULT_METHOD",
    "REGION_METHODS",
    "REGION_METHOD_NAMES",
    "SCENARIO_PRESETS",
    "SSP_CHOICES",
    "TINY_MODEL_ID",
    "ClimateChange",
    "ClimateValues",
    "Comparison",
    "EditOptions",
    "EnsembleResult",
    "ExportedFiles",
    "GenerateResult",
    "GenerationRequest",
    "GpuPicker",
    "GridRequest",
    "GridResult",
    "LayoutBox",
    "MetricSuite",
    "ModelComparison",
    "ModelSpec",
    "Observation",
    "PreviewPlan",
    "ProjectedClimate",
    "Provenance",
    "Region",
    "RegionResult",
    "Scenario",
    "SessionExports",
    "TimelapseRequest",
    "TimelapseResult",
    "backend_choices",
    "caption_for",
    "change_overlay",
    "check_cluster_region",
    "climate_series",
    "compare",
    "compare_models",
    "compose_grid",
    "control_month_before",
    "controlnet_choices",
    "create_export_root",
    "default_controlnet_scale",
    "default_timelapse_range",
    "diffusionsat_metadata",
    "ensemble_paths",
    "ensure_on_land",
    "export_image",
    "export_region",
    "export_scene",
    "export_stem",
    "fetch_real_scene",
    "frame_caption",
    "generate",
    "generator_catalog",
    "generator_ids",
    "image_label",
    "label_image",
    "labelled_image",
    "land_cover_at",
    "latest_month",
    "layout_classes",
    "load_engine",
    "make_grid",
    "make_region",
    "make_timelapse",
    "model_choices",
    "observe",
    "observed_climate",
    "parse_boxes",
    "place_of",
    "preview_hint",
    "preview_plan",
    "projected_climate",
    "prompts_for",
    "read_rgb_image",
    "real_frames",
    "recipe_request",
    "region_from_recipe",
    "remove_at_exit",
    "request_for",
    "run_ensemble",
    "scenario_climate",
    "search_places",
    "shared_engine_loader",
    "sweep_leftover_roots",
    "verify_image",
    "weights_status",
    "with_preview_base",
    "write_comparison_sheet",
    "write_ensemble",
    "write_ndvi_preview",
    "write_real_png",
]
