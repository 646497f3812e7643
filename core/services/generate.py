"""Generate one image for a request: place, month, land cover, cloud, observed climate + scenario, model.

The request keeps the observed climate and the scenario apart; the final climate is derived from
them (`GenerationRequest.climate`), and the result carries a `Provenance` that every export and
label is made from.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, NoImageryError
from core.export.provenance import Provenance
from core.generation.prompts import Prompts
from core.generation.request import (
    DEFAULT_GUIDANCE,
    DEFAULT_STEPS,
    DEFAULT_STRENGTH,
    GenerationRequest,
    check_control_image,
    scenario_climate,
)
from core.generation.runs import GenerationResult, ProgressCallback, generate_images
from core.geo import Month, Point
from core.models.spec import ModelSpec
from core.services.models import check_engine_matches, load_engine

# EcoMapper conditions the ControlNet on an image 1 to 6 months earlier.
CONTROL_MONTHS_BEFORE = (1, 6)

__all__ = [
    "CONTROL_MONTHS_BEFORE",
    "DEFAULT_GUIDANCE",
    "DEFAULT_STEPS",
    "DEFAULT_STRENGTH",
    "GenerateResult",
    "GenerationRequest",
    "check_control_image",
    "check_runnable",
    "control_month_before",
    "generate",
    "prompts_for",
    "request_for",
    "scenario_climate",
]


@dataclass(frozen=True)
class GenerateResult:
    """The generated image(s), the prompts, the resolved request and where it all came from."""

    result: GenerationResult
    provenance: Provenance

    @property
    def image(self) -> np.ndarray:
        return self.result.image

    @property
    def images(self) -> list[np.ndarray]:
        return self.result.images

    @property
    def prompts(self):
        return self.result.prompts

    @property
    def request(self) -> GenerationRequest:
        return self.result.request

    @property
    def label(self) -> str:
        """'AI-generated · Kenya · March 2021 · +3 °C, −30 % rain' (see `core.export.provenance.image_label`)."""
        return self.provenance.label

    @property
    def model_info(self) -> dict[str, Any]:
        return self.result.model_info

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.result.warnings

    @property
    def timings_s(self) -> dict[str, float]:
        return self.result.timings_s


def check_runnable(request: object) -> None:
    """A service runs a `GenerationRequest` that names its model."""
    if not isinstance(request, GenerationRequest):
        raise BadRequestError(
            f"{type(request).__name__} is not a GenerationRequest.", "Build a core.services.GenerationRequest."
        )
    if request.model is None:
        raise BadRequestError("The request names no model.", "Pass model=ModelSpec('sd3-medium') (or tiny-random).")


def control_month_before(month, months_before: int):
    """The control month `months_before` (1..6) months before `month`."""
    low, high = CONTROL_MONTHS_BEFORE
    if isinstance(months_before, bool) or not isinstance(months_before, int) or not low <= months_before <= high:
        raise BadRequestError(
            f"The control image must be {low} to {high} months earlier (got {months_before!r}).",
            "EcoMapper's ControlNet is conditioned on the same place 1 to 6 months before.",
        )
    return month - months_before


def generate(
    request: GenerationRequest,
    settings: Settings,
    *,
    engine: Any = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> GenerateResult:
    """Generate the image a request describes.

    Args:
        request: what to generate and on which model.
        settings: endpoints (control image), checkpoints.
        engine: an engine already loaded for `request.model` (see `load_engine`); loaded if None.
        progress: `progress(step, total, message)` per denoising step.
        cancel: set it to stop between steps (`CancelledError`).

    Raises:
        NoImageryError: ControlNet mode and the control month has no usable scene (names the month).
    """
    check_runnable(request)
    if engine is None:
        engine = load_engine(request.model, settings)
    check_engine_matches(engine, request.model)
    try:
        result = generate_images(request, engine, settings, progress=progress, cancel=cancel)
    except NoImageryError as err:
        if request.mode != "controlnet" or request.control_image is not None:
            raise
        raise NoImageryError(
            f"ControlNet needs a real image of {request.control_month}: {err.problem}",
            "Pick another control month (1 to 6 months earlier) or use text-to-image.",
        ) from err
    return GenerateResult(result=result, provenance=Provenance.of(result))


def prompts_for(
    point: Point,
    month: Month,
    land_cover: str,
    *,
    cloud_fraction: float = 0.0,
    climate: ClimateValues | None = None,
    state: str | None = None,
    country: str = "",
    word_mode: bool = False,
    settings: Settings | None = None,
) -> Prompts:
    """The EcoMapper prompts of a place and month (place names looked up when `country` is '': from the
    admin-1 polygon with `settings`, as `place_of`; from the nearest town without)."""
    from core.generation.prompts import PromptInputs, build_prompts
    from core.sources.places import reverse_geocode

    if not country:
        place = reverse_geocode(point, settings)
        state, country = state or place.state, place.country
    inputs = PromptInputs(
        land_cover=land_cover,
        cloud_fraction=cloud_fraction,
        country=country,
        state=state,
        month=Month.parse(month),
        climate=climate,
    )
    return build_prompts(inputs, word_mode=word_mode)


def request_for(
    observation: Any,
    model: ModelSpec,
    *,
    scenario: Scenario | None = None,
    land_cover: str | None = None,
    cloud_fraction: float | None = None,
    observed_climate: ClimateValues | None = None,
    **options: Any,
) -> GenerationRequest:
    """The request to generate what `observation` shows, under `scenario`: place, month, land cover,
    cloud, climate and place names all come from the one observation (or the overrides given), so a
    request never mixes a new place with an old place's land cover or climate.

    Args:
        observation: a `core.services.Observation`.
        model: the model to run.
        scenario: the change of the observed climate (today if None).
        land_cover, cloud_fraction, observed_climate: overrides of what was observed.
        options: the other `GenerationRequest` fields (seed, num_inference_steps, mode, control_month, ...).

    Raises:
        BadRequestError: no land cover (observed or given), or a scenario without an observed climate.
    """
    chosen = land_cover or observation.land_cover
    if not chosen:
        why = observation.land_cover_problem or "not looked up"
        raise BadRequestError(
            f"No land cover is known at {observation.point.label()} ({why}).", "Choose one of the 15 classes."
        )
    cloud = cloud_fraction if cloud_fraction is not None else (observation.cloud_fraction or 0.0)
    return GenerationRequest.from_record(
        observation,
        land_cover=chosen,
        cloud_fraction=cloud,
        observed_climate=observed_climate if observed_climate is not None else observation.climate,
        scenario=scenario if scenario is not None else Scenario.today(),
        model=model,
        **options,
    )


def diffusionsat_metadata(
    point: Point, month: Month, *, cloud_fraction: float = 0.0, climate: ClimateValues
) -> list[float]:
    """The 10 metadata values EcoMapper's DiffusionSat-weather reads for a place and month (day 1, GSD 20,
    normalised as the original's create_captions.py; `core.models.backends.metadata`)."""
    from core.models.backends.metadata import ECOMAPPER_GSD_M, normalise_metadata

    month = Month.parse(month)
    return normalise_metadata(
        lon=point.lon,
        lat=point.lat,
        gsd_m=ECOMAPPER_GSD_M,
        cloud_fraction=cloud_fraction,
        year=month.year,
        month=month.month,
        day=1,
        climate=climate,
        with_weather=True,
    )
