"""The one request model: "this place and month, this observed climate and scenario, this generator and mode".

`GenerationRequest` is validated once, here, with one unit per quantity; the scenario is applied to
the observed climate in one place (`GenerationRequest._derive_climate`). A time-lapse, a scenario grid,
a comparison of generators, evaluation records and experiments are built from it (a base request plus
what varies: `core.generation.compositions`), and a recipe is this request serialised
(`core.export.image_files`). Running it is `core.generation.runs`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from core.climate.scenario import Scenario, round_climate
from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.generation.prompts import PromptInputs, Prompts, build_prompts
from core.geo import Month, Point
from core.models.flow_edit import EDIT_MODES, EditOptions
from core.models.spec import ModelSpec
from core.sources.land_cover_classes import LAND_COVER_CLASSES

if TYPE_CHECKING:  # read, never built, here
    from core.sources.imagery import SceneBands


MODES = ("text", "controlnet", "img2img", *EDIT_MODES)
# Modes that start from (img2img, edit, invert) or are conditioned on (ControlNet) a real image.
IMAGE_MODES = ("controlnet", "img2img", *EDIT_MODES)
DEFAULT_STRENGTH = 0.6
# EcoMapper's footprint is 512 px; 1024 px is its high-resolution mode. Smaller sizes serve quick
# previews and the tiny test model. SD3 needs multiples of 16 (VAE 8x, transformer patch 2).
SIZE_MULTIPLE_PX = 16
MIN_SIZE_PX = 64
MAX_SIZE_PX = 1024
DEFAULT_STEPS = 50
DEFAULT_GUIDANCE = 7.5
MAX_STEPS = 500
MAX_SEED = 2**63 - 1
# Where a layout-conditioned generator (GeoSynth, map-sat) gets its control image.
LAYOUTS = ("osm", "canny", "image")
# EcoMapper's footprint: 512 px of Sentinel-2 at 10 m.
FOOTPRINT_M = 5120.0
# A box layout (AeroGen): at most this many objects, each a rotated box given by its 4 corners.
MAX_BOXES = 20


@dataclass(frozen=True)
class LayoutBox:
    """One object of a box layout: its class and the 4 corners of its (rotated) box.

    Args:
        label: the object class (AeroGen: a DIOR-R class such as "airplane" or "storagetank").
        corners: x1, y1, ..., x4, y4 as fractions of the image width and height (0..1, y down).
    """

    label: str
    corners: tuple[float, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise BadRequestError(f"The box label {self.label!r} is not a class name.", 'Give e.g. "airplane".')
        corners = tuple(self.corners) if isinstance(self.corners, (list, tuple)) else ()
        if len(corners) != 8:
            raise BadRequestError(
                f"The {self.label} box has {len(corners)} corner numbers, not 8.",
                'Give "corners": [x1, y1, x2, y2, x3, y3, x4, y4] or "box": [x_min, y_min, x_max, y_max] (0..1).',
            )
        hint = "Corners are fractions of the image, 0..1."
        object.__setattr__(self, "corners", tuple(_check_number("box corner", v, 0.0, 1.0, hint) for v in corners))

    @classmethod
    def from_dict(cls, data: Any) -> LayoutBox:
        """{"label": ..., "corners": [8 numbers]} or {"label": ..., "box": [x_min, y_min, x_max, y_max]}."""
        if not isinstance(data, dict) or "label" not in data or ("corners" in data) == ("box" in data):
            raise BadRequestError(
                f"The layout entry {data!r} is not a box.",
                'Write {"label": "airplane", "box": [x_min, y_min, x_max, y_max]} or give "corners" (8 numbers).',
            )
        if "corners" in data:
            return cls(data["label"], tuple(data["corners"]) if isinstance(data["corners"], list) else ())
        box = data["box"]
        if not isinstance(box, list) or len(box) != 4:
            raise BadRequestError(f"The box {box!r} is not [x_min, y_min, x_max, y_max].", "Give 4 numbers, 0..1.")
        x0, y0, x1, y1 = box
        return cls(data["label"], (x0, y0, x1, y0, x1, y1, x0, y1))

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "corners": list(self.corners)}


def parse_boxes(data: Any) -> tuple[LayoutBox, ...]:
    """A box layout from JSON data: a list of boxes, or {"boxes": [...]}.

    Raises:
        BadRequestError: not a list of boxes, or more than MAX_BOXES.
    """
    items = data.get("boxes") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadRequestError("The layout is not a list of boxes.", 'Write [{"label": "ship", "box": [...]}, ...].')
    boxes = tuple(LayoutBox.from_dict(item) for item in items)
    if len(boxes) > MAX_BOXES:
        raise BadRequestError(f"The layout has {len(boxes)} boxes, more than {MAX_BOXES}.", "Keep the 20 that matter.")
    return boxes


def _check_number(name: str, value: object, low: float, high: float, hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequestError(f"The {name} {value!r} is not a number.", hint)
    if not low <= value <= high:
        raise BadRequestError(f"The {name} {value:g} is outside {low:g}..{high:g}.", hint)
    return float(value)


def check_control_image(image: object, size_px: int, what: str = "control image") -> np.ndarray:
    """A control image must be an 8-bit RGB array of exactly size_px x size_px.

    Raises:
        BadRequestError: naming the dtype / shape found and what is needed.
    """
    if not isinstance(image, np.ndarray):
        raise BadRequestError(
            f"The {what} is a {type(image).__name__}, not an image array.", "Pass a uint8 H x W x 3 numpy array."
        )
    if image.dtype != np.uint8:
        raise BadRequestError(
            f"The {what} has pixel type {image.dtype}, not 8-bit.", "Give an 8-bit RGB image (uint8, 0..255)."
        )
    if image.ndim != 3 or image.shape[2] != 3:
        channels = "grayscale" if image.ndim == 2 else f"{image.shape[2]}-channel" if image.ndim == 3 else "odd"
        raise BadRequestError(
            f"The {what} is {channels} (shape {image.shape}), not RGB.",
            "Give a 3-channel RGB image (convert RGBA / grayscale / palette images to RGB first).",
        )
    if image.shape[:2] != (size_px, size_px):
        raise BadRequestError(
            f"The {what} is {image.shape[1]} x {image.shape[0]} px, but the output size is {size_px} x {size_px} px.",
            f"Give a {size_px} x {size_px} image (the footprint at the output size), or change the size.",
        )
    return image


def scenario_climate(observed: ClimateValues, scenario: Scenario, month: Month | None = None) -> ClimateValues:
    """The climate `month` shows under `scenario`: the one place a scenario meets an observed climate.

    A request derives its final climate here; the app's scenario line previews it here too.

    Raises:
        BadRequestError: not a physically possible climate (names the scenario and the observed values).
    """
    return scenario.apply(observed, month)


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate.

    Args:
        point: the place (footprint centre).
        month: the month to show.
        land_cover: one of the 15 EcoMapper classes.
        cloud_fraction: cloud cover to describe, 0..1.
        climate: the month's climate (observed or modified); None leaves it out of the prompt.
        seed: seed of the initial noise (same seed, same model, same device: same pixels).
        num_inference_steps: denoising steps (EcoMapper: 50); None: the generator's own default.
        guidance_scale: classifier-free guidance (EcoMapper: 7.5; <= 1 turns it off); None: the generator's.
        size_px: output width = height, a multiple of 16 from 64 to 1024 (512 = the footprint).
        mode: "text" (text-to-image), "controlnet" (conditioned on an earlier real image) or
            "img2img" (the real image of the month, an earlier month or an uploaded one, redrawn
            under the prompt's climate), "edit" (FlowEdit: the real image of the month edited from the caption
            of the observed climate to that of the scenario) or "invert" (the real image inverted under the
            observed climate's caption, then sampled under the scenario's).
        control_image: uint8 size_px x size_px x 3 (ControlNet: control image; img2img: start image;
            edit / invert: the source image),
            or None to fetch `control_month` (img2img without either: the real image of `month`).
        control_month: the month whose real Sentinel-2 image conditions the ControlNet / starts img2img.
        controlnet_conditioning_scale: strength of the ControlNet, 0..2.
        state: region for the prompt (None when unknown).
        country: country for the prompt ("" = look it up offline from the point).
        word_mode: describe the climate in words rather than numbers.
        observed_climate: the climate the scenario starts from (NASA POWER's, or given by hand);
            with it, `climate` is derived (`scenario.apply(observed_climate, month)`) when left None.
        scenario: how `climate` differs from `observed_climate` (`Scenario.today()`: not at all).
            Kept beside both, so every output records observed, scenario and final climate.
        strength: img2img only: how much of the start image is redrawn, 0 (kept, through the VAE) to 1.
        model: the generator and its adapters (`ModelSpec`: an SD3 id, path or Hub id, a peer generator id
            such as "diffusionsat-256", a LoRA, a ControlNet); required by the services, None in the engine.
        layout: peer layout generators only: where the control layout comes from ("osm", "canny",
            "image" = `control_image` as given); None = the generator's default.
        reference_image: the real image of the place (uint8), read by layout generators for Canny edges.
        day: day of the month for date metadata (DiffusionSat; a monthly product: mid-month by default).
        edit: edit / invert only: FlowEdit's n_max, n_min, n_avg, source and target guidance
            (`core.models.flow_edit.EditOptions`; None fields take the documented defaults).
        boxes: a box layout (AeroGen): up to 20 `LayoutBox`es; () = none.
        source_bands: img2img with a multispectral generator (COP-GEN): the real scene's B04/B03/B02/B08
            reflectance (`core.sources.imagery.SceneBands`) to redraw; `generate` fetches it for
            `control_month` (else `month`) when None.
    """

    point: Point
    month: Month
    land_cover: str
    cloud_fraction: float = 0.0
    climate: ClimateValues | None = None
    seed: int = 0
    num_inference_steps: int | None = DEFAULT_STEPS
    guidance_scale: float | None = DEFAULT_GUIDANCE
    size_px: int = 512
    mode: str = "text"
    control_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    control_month: Month | None = None
    controlnet_conditioning_scale: float = 1.0
    state: str | None = None
    country: str = ""
    word_mode: bool = False
    observed_climate: ClimateValues | None = None
    scenario: Scenario = field(default_factory=Scenario)
    strength: float = DEFAULT_STRENGTH
    model: ModelSpec | None = None
    layout: str | None = None
    reference_image: np.ndarray | None = field(default=None, compare=False, repr=False)
    day: int = 15
    edit: EditOptions = field(default_factory=EditOptions)
    boxes: tuple[LayoutBox, ...] = ()
    source_bands: SceneBands | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.point, Point):
            raise BadRequestError(f"The point {self.point!r} is not a Point.", "Pass core.geo.Point(lat, lon).")
        object.__setattr__(self, "month", Month.parse(self.month))
        self._derive_climate()
        if self.land_cover not in LAND_COVER_CLASSES:
            raise BadRequestError(
                f"Unknown land cover {self.land_cover!r}.", f"Use one of: {', '.join(LAND_COVER_CLASSES)}."
            )
        cloud = _check_number("cloud fraction", self.cloud_fraction, 0.0, 1.0, "Give a cloud fraction from 0 to 1.")
        object.__setattr__(self, "cloud_fraction", round(cloud, 4))  # the precision a recipe records
        if self.climate is not None and not isinstance(self.climate, ClimateValues):
            raise BadRequestError(
                f"The climate {self.climate!r} is not a ClimateValues.",
                "Pass ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day) (it checks for NaN and ranges).",
            )
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
            raise BadRequestError(f"The seed {self.seed!r} is not a whole number from 0 to 2^63-1.", "Give e.g. 0.")
        object.__setattr__(self, "seed", int(self.seed))
        self._check_sampling()
        size = self.size_px
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise BadRequestError(f"The size {size!r} is not a whole number of pixels.", "Use 512 or 1024.")
        if size % SIZE_MULTIPLE_PX or not MIN_SIZE_PX <= size <= MAX_SIZE_PX:
            raise BadRequestError(
                f"The size {size} px is not a multiple of {SIZE_MULTIPLE_PX} between {MIN_SIZE_PX} and {MAX_SIZE_PX}.",
                "Use 512 (the EcoMapper footprint) or 1024 (high resolution); SD3 needs multiples of 16.",
            )
        if self.mode not in MODES:
            raise BadRequestError(f"Unknown mode {self.mode!r}.", f"Use one of {', '.join(MODES)}.")
        if self.control_month is not None:
            object.__setattr__(self, "control_month", Month.parse(self.control_month))
        _check_number("strength", self.strength, 0.0, 1.0, "Use a strength from 0 (keep the image) to 1 (redraw it).")
        object.__setattr__(self, "strength", float(self.strength))
        self._check_edit_options()
        if self.mode in ("img2img", *EDIT_MODES):
            if self.control_image is not None:
                check_control_image(self.control_image, size, what="start image")
            if self.control_month is not None and self.control_month > self.month:
                raise BadRequestError(
                    f"The start month {self.control_month} is after the month to generate ({self.month}).",
                    "Start from the month itself or an earlier one.",
                )
        elif self.mode == "controlnet":
            if self.control_image is None and self.control_month is None:
                raise BadRequestError(
                    "ControlNet mode needs a control image or a control month.",
                    "Give --control-image PATH or --control-month YYYY-MM (an earlier month of the same place).",
                )
            if self.control_image is not None:
                check_control_image(self.control_image, size)
            if self.control_month is not None and self.control_month > self.month:
                raise BadRequestError(
                    f"The control month {self.control_month} is after the month to generate ({self.month}).",
                    "Condition on an earlier month (EcoMapper uses 1 to 6 months earlier).",
                )
        elif (self.control_image is not None and self.layout != "image") or self.control_month is not None:
            raise BadRequestError(
                "A control image or month was given in text-to-image mode.",
                "Use mode 'controlnet' or 'img2img', or leave them out.",
            )
        strength = _check_number(
            "ControlNet scale", self.controlnet_conditioning_scale, 0.0, 2.0, "Use a ControlNet scale from 0 to 2."
        )
        object.__setattr__(self, "controlnet_conditioning_scale", round(strength, 3))
        if self.state is not None and not isinstance(self.state, str):
            raise BadRequestError(f"The state {self.state!r} is not text.", "Give a region name or None.")
        if not isinstance(self.country, str):
            raise BadRequestError(f"The country {self.country!r} is not text.", "Give a country name.")
        self._check_generator_inputs()

    def _check_edit_options(self) -> None:
        """FlowEdit / inversion options belong to modes edit and invert, and must fit the steps."""
        if not isinstance(self.edit, EditOptions):
            raise BadRequestError(f"The edit options {self.edit!r} are not EditOptions.",
                                  "Pass core.models.flow_edit.EditOptions(n_max=..., ...).")  # fmt: skip
        if self.mode in EDIT_MODES:
            self.edit.check(self.mode, self.num_inference_steps)
        elif self.edit != EditOptions():
            raise BadRequestError(f"Edit options were given in mode {self.mode}.",
                                  "Use mode edit or invert, or leave the edit options out.")  # fmt: skip

    def source_prompts(self) -> Prompts:
        """The caption of the source image in modes edit / invert: this place and month under the observed climate."""
        if self.observed_climate is None:
            return self.prompts()
        return self.replace(scenario=Scenario.today()).prompts()

    def _check_sampling(self) -> None:
        """Steps and guidance; None leaves them to the generator (`with_sampling_defaults`)."""
        steps = self.num_inference_steps
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS
        ):
            raise BadRequestError(
                f"The number of steps {steps!r} is not a whole number from 1 to {MAX_STEPS}.",
                f"Use at least 1 step (EcoMapper uses {DEFAULT_STEPS}).",
            )
        if steps is not None:
            object.__setattr__(self, "num_inference_steps", int(steps))
        if self.guidance_scale is not None:
            guidance = _check_number(
                "guidance scale", self.guidance_scale, 0.0, 30.0, "Use a guidance scale 0..30 (7.5)."
            )
            object.__setattr__(self, "guidance_scale", round(guidance, 3))

    def with_sampling_defaults(self, steps: int, guidance: float) -> GenerationRequest:
        """This request with the generator's own steps and guidance where it left them None."""
        if self.num_inference_steps is not None and self.guidance_scale is not None:
            return self
        return self.replace(
            num_inference_steps=steps if self.num_inference_steps is None else self.num_inference_steps,
            guidance_scale=guidance if self.guidance_scale is None else self.guidance_scale,
        )

    def _check_generator_inputs(self) -> None:
        """The model and what peer generators read (layout, reference image, day)."""
        if self.model is not None and not isinstance(self.model, ModelSpec):
            raise BadRequestError(
                f"The model {self.model!r} is not a ModelSpec.", "Pass model=ModelSpec('sd3-medium') (or tiny-random)."
            )
        if self.layout is not None and self.layout not in LAYOUTS:
            raise BadRequestError(f"Unknown layout {self.layout!r}.", f"Use one of {', '.join(LAYOUTS)}.")
        if self.layout == "image" and self.control_image is None:
            raise BadRequestError("Layout 'image' needs a control image.", "Pass control_image, or use osm / canny.")
        if self.reference_image is not None:
            size = getattr(self.reference_image, "shape", (0,))[0]
            check_control_image(self.reference_image, size, what="reference image")
        if isinstance(self.day, bool) or not isinstance(self.day, int) or not 1 <= self.day <= 31:
            raise BadRequestError(f"The day {self.day!r} is not 1..31.", "Give a day of the month.")
        if not isinstance(self.boxes, tuple) or not all(isinstance(b, LayoutBox) for b in self.boxes):
            raise BadRequestError("The boxes are not a tuple of LayoutBox.", "Build them with parse_boxes(json_data).")
        if self.source_bands is not None and self.mode != "img2img":
            raise BadRequestError(f"Source bands were given in mode {self.mode}.",
                                  "Use mode img2img (COP-GEN redraws them), or leave them out.")  # fmt: skip
        if len(self.boxes) > MAX_BOXES:
            raise BadRequestError(f"The layout has {len(self.boxes)} boxes, over {MAX_BOXES}.", "Keep 20 or fewer.")

    def _derive_climate(self) -> None:
        """Fill or check `climate` from `observed_climate` and `scenario` (the final climate is never free).

        Climate values are kept at the precision outputs record (2 decimals): a recipe then holds
        exactly what made the image.
        """
        if isinstance(self.climate, ClimateValues):
            object.__setattr__(self, "climate", round_climate(self.climate))
        if not isinstance(self.scenario, Scenario):
            raise BadRequestError(
                f"The scenario {self.scenario!r} is not a Scenario.",
                "Pass core.climate.scenario.Scenario.of_change(...).",
            )
        if self.observed_climate is None:
            if not self.scenario.is_today:
                raise BadRequestError(
                    f"The scenario '{self.scenario.label}' has no observed climate to change.",
                    "Give the observed climate (observe the month, or give temperature, precipitation and radiation).",
                )
            return
        if not isinstance(self.observed_climate, ClimateValues):
            raise BadRequestError(
                f"The observed climate {self.observed_climate!r} is not a ClimateValues.",
                "Pass ClimateValues(temp_c, precip_mm_day, solar_mj_m2_day).",
            )
        object.__setattr__(self, "observed_climate", round_climate(self.observed_climate))
        final = scenario_climate(self.observed_climate, self.scenario, self.month)
        if self.climate is None:
            object.__setattr__(self, "climate", final)
        elif self.climate != final:
            raise BadRequestError(
                f"The climate {self.climate} is not the observed climate under the scenario '{self.scenario.label}' "
                f"({final}).",
                "Leave climate out: it is derived from observed_climate and scenario.",
            )

    @classmethod
    def from_record(cls, record: Any, **fields: Any) -> GenerationRequest:
        """The request to generate what `record` shows: a dataset sample's metadata or an observation (anything
        with `point`, `month`, `land_cover`, `cloud_fraction`, `climate`, `state`, `country`).

        The record's climate is the observed one; `fields` set the rest (model, seed, mode, scenario, ...)
        and may override any of the record's. The one mapping from records to requests.
        """
        taken = {
            "point": record.point,
            "month": record.month,
            "land_cover": record.land_cover,
            "cloud_fraction": record.cloud_fraction or 0.0,
            "observed_climate": record.climate,
            "state": record.state,
            "country": record.country or "",
        }
        return cls(**{**taken, **fields})

    def prompt_inputs(self) -> PromptInputs:
        """The prompt inputs (needs `country`; see `with_place`)."""
        return PromptInputs.of(self)

    def prompts(self) -> Prompts:
        return build_prompts(self.prompt_inputs(), word_mode=self.word_mode)

    def with_place(self, settings: Settings | None = None) -> GenerationRequest:
        """This request with state and country looked up when no country was given.

        With `settings`, from the admin-1 polygon containing the point (`core.sources.places`,
        nearest town when the boundaries cannot be had); without, from the nearest town.
        """
        if self.country.strip():
            return self
        from core.sources.places import reverse_geocode

        place = reverse_geocode(self.point, settings)
        return dataclasses.replace(self, state=self.state or place.state, country=place.country)

    @property
    def has_scenario(self) -> bool:
        """A scenario other than today's climate."""
        return not self.scenario.is_today

    @property
    def ground_m_per_px(self) -> float:
        """Ground size of one generated pixel when the image shows the 5.12 km footprint."""
        return FOOTPRINT_M / self.size_px

    def replace(self, **changes: Any) -> GenerationRequest:
        """A copy with `changes`; a derived climate is derived again when what it comes from changes."""
        derives_from = {"month", "observed_climate", "scenario"}
        rederive = "climate" not in changes and derives_from & set(changes)
        if rederive and changes.get("observed_climate", self.observed_climate) is not None:
            changes["climate"] = None
        return dataclasses.replace(self, **changes)
