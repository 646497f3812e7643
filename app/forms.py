"""Widget values read once into typed forms, with messages that name the field that was wrong.

Each form lists its fields in the order of the public endpoint's parameters (`FIELDS`, which are
also the names of the components they come from), and `parse` turns the raw values (numbers, text
typed with a decimal comma, empty boxes) into plain values once, so the handlers never see twenty
loose arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.projection_form import ProjectionChoice
from core import limits
from core.climate.scenario import SCENARIO_PRESETS, Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.geo import Month, Point

PICK_A_PLACE = BadRequestError(
    "No place is picked yet.", "Pick a place first: click the map, search a name, or type a latitude and a longitude."
)
NO_LAND_COVER = BadRequestError(
    "No land cover is chosen.", "Observe the place to look it up, or choose one from the list."
)
# The presets the app offers: core's (issue 9) plus +3 °C, the warming most 2100 pathways pass (issue 25).
PRESETS: tuple[Scenario, ...] = (
    *SCENARIO_PRESETS[:2],
    Scenario.of_change(3.0, name="Much warmer"),
    *SCENARIO_PRESETS[2:],
)
MAX_TIMELAPSE_MONTHS = 36
# Longest list of changes on one grid axis (a 4 x 4 grid is 16 generations).
MAX_GRID_AXIS = 4
# the sizes the Settings tab offers (the footprint and high resolution); the command line takes any allowed size
SIZE_CHOICES_PX = (512, 1024)
# "24,8" (a decimal comma) is read as 24.8; "1.234,5" and "1,234.5" are refused (which is the decimal mark?).
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")


def read_number(value: Any, field: str, *, required: bool = True, unit: str = "") -> float | None:
    """A number from a widget: int/float as is, text with '.' or a decimal comma ("24,8").

    Raises:
        BadRequestError: the text is not a number or is empty while required; the message names `field`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadRequestError(f"The {field} is empty.", f"Give the {field}{f' in {unit}' if unit else ''}.")
        return None
    if isinstance(value, bool):
        raise BadRequestError(f"The {field} {value!r} is not a number.", f"Give the {field} as a number.")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip().replace("\u2212", "-").replace(" ", "")
        if _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError as err:
            raise BadRequestError(
                f"The {field} {str(value)!r} is not a number.",
                f"Write the {field} with a decimal point or a decimal comma, e.g. 24.8 or 24,8 "
                "(no thousands separators).",
            ) from err
    if not math.isfinite(number):
        raise BadRequestError(f"The {field} {value!r} is not a finite number.", f"Give the {field} as a number.")
    return number


def read_number_or(value: Any, field: str, default: float) -> float:
    """`read_number`, with `default` for an empty box."""
    number = read_number(value, field, required=False)
    return default if number is None else number


def read_int(value: Any, field: str, *, default: int | None = None) -> int:
    """A whole number (seed, steps, size): decimals are refused rather than cut."""
    number = read_number(value, field, required=default is None)
    if number is None:
        return int(default)  # type: ignore[arg-type]
    if number != int(number):
        raise BadRequestError(f"The {field} {value!r} is not a whole number.", f"Give the {field} without decimals.")
    # an int stays exact (a float has 53 bits: 2**63 - 1 would round); the caller checks its range
    return value if isinstance(value, int) and not isinstance(value, bool) else int(number)


def read_point(lat: Any, lon: Any) -> Point:
    """The picked point; "pick a place first" when either box is empty."""
    lat_value = read_number(lat, "latitude", required=False)
    lon_value = read_number(lon, "longitude", required=False)
    if lat_value is None or lon_value is None:
        raise PICK_A_PLACE
    return Point(lat_value, lon_value)


def read_month(text: Any, field: str = "month") -> Month:
    """A YYYY-MM month; the message names the field (month, start month, end month)."""
    if text is None or not str(text).strip():
        raise BadRequestError(f"The {field} is empty.", "Write it as YYYY-MM, for example 2020-02.")
    try:
        return Month.parse(str(text).strip())
    except BadRequestError as err:
        raise BadRequestError(f"The {field}: {err.problem}", err.fix) from err


def read_text(value: Any) -> str:
    return str(value or "").strip()


def read_cloud_fraction(cloud_pct: Any) -> float:
    """The cloud-cover slider (%) as a 0..1 fraction; an empty box is a clear sky."""
    return min(max(read_number_or(cloud_pct, "cloud cover", 0.0), 0.0), 100.0) / 100.0


def read_number_list(text: Any, field: str) -> list[float]:
    """'0, 2, 4' or '0; 2,5; 4' (decimal commas need ';' between values)."""
    raw = str(text or "")
    parts = raw.split(";") if ";" in raw else raw.split(",")
    values = [read_number(p.strip(), field) for p in parts if p.strip()]
    if not values:
        raise BadRequestError(f"The list of {field} is empty.", "Write numbers separated by commas, e.g. 0, 2, 4.")
    if len(values) > MAX_GRID_AXIS:
        raise BadRequestError(
            f"{len(values)} {field} is more than {MAX_GRID_AXIS} for one grid.", f"Give at most {MAX_GRID_AXIS}."
        )
    return [float(v) for v in values]  # type: ignore[arg-type]


def _values(fields: tuple[str, ...], values: Mapping[str, Any] | tuple | list) -> dict[str, Any]:
    if isinstance(values, Mapping):
        return {name: values.get(name) for name in fields}
    if len(values) != len(fields):
        raise ValueError(f"expected {len(fields)} values ({', '.join(fields)}), got {len(values)}")
    return dict(zip(fields, values, strict=True))


@dataclass(frozen=True)
class ModelChoice:
    """Which weights to generate with: the base model, an optional ControlNet and LoRA."""

    model_id: str
    controlnet: str | None
    lora: str | None
    lora_scale: float


@dataclass(frozen=True)
class ObserveForm:
    """The `/observe` endpoint: a point and a month."""

    FIELDS = ("lat", "lon", "month")
    point: Point
    month: Month

    @classmethod
    def parse(cls, values: Mapping[str, Any] | tuple | list) -> ObserveForm:
        raw = _values(cls.FIELDS, values)
        return cls(point=read_point(raw["lat"], raw["lon"]), month=read_month(raw["month"]))


@dataclass(frozen=True)
class ObservedClimateForm:
    """The climate the observation reported (or the user typed), before any scenario."""

    temp_c: float | None
    precip_mm_day: float | None
    solar_mj_m2_day: float | None

    @classmethod
    def read(cls, temp_c: Any, precip_mm_day: Any, solar_mj_m2_day: Any) -> ObservedClimateForm:
        return cls(
            read_number(temp_c, "observed temperature", required=False, unit="°C"),
            read_number(precip_mm_day, "observed precipitation", required=False, unit="mm/day"),
            read_number(solar_mj_m2_day, "observed solar radiation", required=False, unit="MJ/m²/day"),
        )

    @property
    def complete(self) -> bool:
        return None not in (self.temp_c, self.precip_mm_day, self.solar_mj_m2_day)

    def values(self) -> ClimateValues | None:
        """The three values, None while any box is empty."""
        if not self.complete:
            return None
        return ClimateValues(self.temp_c, self.precip_mm_day, self.solar_mj_m2_day)  # type: ignore[arg-type]


def read_scenario(temp_delta_c: Any, precip_pct: Any) -> Scenario:
    """The scenario of the two sliders; a preset's name when the numbers are a preset's."""
    scenario = Scenario.of_change(
        read_number_or(temp_delta_c, "temperature change", 0.0), read_number_or(precip_pct, "precipitation change", 0.0)
    )
    for preset in PRESETS:
        if preset.change == scenario.change:
            return preset
    return scenario


def _model_choice(raw: Mapping[str, Any], default_model: str) -> ModelChoice:
    return ModelChoice(
        model_id=read_text(raw.get("model_id")) or default_model,
        controlnet=read_text(raw.get("controlnet")) or None,
        lora=read_text(raw.get("lora")) or None,
        lora_scale=read_number_or(raw.get("lora_scale"), "LoRA scale", 1.0),
    )


@dataclass(frozen=True)
class SamplingForm:
    """Seed, steps, guidance and size, shared by every generating endpoint."""

    seed: int
    steps: int
    guidance: float
    size_px: int

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> SamplingForm:
        """The four numbers, each checked against the limits table before any work (as the CLI does)."""
        return cls(
            seed=limits.GENERATION_SEED.check("seed", read_int(raw.get("seed"), "seed", default=0)),
            steps=limits.INFERENCE_STEPS.check(
                "steps", read_int(raw.get("steps"), "number of denoising steps", default=28)
            ),
            guidance=limits.GUIDANCE_SCALE.check(
                "guidance", read_number_or(raw.get("guidance"), "guidance scale", 7.5)
            ),
            size_px=limits.IMAGE_SIZE_PX.check("size", read_int(raw.get("size_px"), "size", default=512)),
        )


# Modes the app's Generate offers; edit / invert start from the month's real scene (issue 20).
APP_MODES = ("text", "controlnet", "edit", "invert")
EDIT_APP_MODES = ("edit", "invert")
EDIT_FIELDS = ("n_max", "n_min", "n_avg", "source_guidance", "target_guidance")


@dataclass(frozen=True)
class EditChoice:
    """FlowEdit's / inversion's options as typed (None: the documented default of the mode)."""

    n_max: int | None = None
    n_min: int = 0
    n_avg: int = 1
    source_guidance: float | None = None
    target_guidance: float | None = None

    @classmethod
    def read(cls, raw: Mapping[str, Any], mode: str) -> EditChoice | None:
        """The options in modes edit / invert (None in other modes: the boxes are then ignored)."""
        if mode not in EDIT_APP_MODES:
            return None
        n_max = read_number(raw.get("n_max"), "edited steps (n_max)", required=False)
        if n_max is not None and n_max != int(n_max):
            raise BadRequestError(f"The edited steps (n_max) {n_max!r} is not a whole number.", "Give whole steps.")
        # inversion has no n_min / n_avg: they keep FlowEdit's neutral values there
        plain = mode == "invert"
        return cls(
            n_max=None if not n_max else int(n_max),
            n_min=0 if plain else read_int(raw.get("n_min"), "plain final steps (n_min)", default=0),
            n_avg=1 if plain else read_int(raw.get("n_avg"), "noise draws per step (n_avg)", default=1),
            source_guidance=read_number(raw.get("source_guidance"), "source guidance", required=False),
            target_guidance=read_number(raw.get("target_guidance"), "target guidance", required=False),
        )


@dataclass(frozen=True)
class GenerateForm:
    """The `/generate` endpoint (the parameter names are the documented gradio_client API)."""

    FIELDS = (
        "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
        "temp_delta_c", "precip_pct", "mode", "control_months_before", "model_id", "seed", "steps", "guidance",
        "size_px", "controlnet", "lora", "lora_scale", "ssp", "horizon", "normals_years", *EDIT_FIELDS,
    )  # fmt: skip
    point: Point
    month: Month
    land_cover: str | None
    cloud_fraction: float
    observed: ObservedClimateForm
    scenario: Scenario
    mode: str
    control_months_before: int
    model: ModelChoice
    sampling: SamplingForm
    projection: ProjectionChoice | None = None  # a picked CMIP6 SSP x horizon replaces the sliders' scenario
    edit: EditChoice | None = None  # modes edit / invert: FlowEdit's or inversion's options

    @classmethod
    def parse(cls, values: Mapping[str, Any] | tuple | list, default_model: str = "sd3-medium") -> GenerateForm:
        raw = _values(cls.FIELDS, values)
        point = read_point(raw["lat"], raw["lon"])
        mode = read_text(raw["mode"]) or "text"
        if mode not in APP_MODES:
            raise BadRequestError(f"Unknown mode {mode!r}.", f"Use one of {', '.join(APP_MODES)}.")
        cloud_fraction = read_cloud_fraction(raw["cloud_pct"])
        return cls(
            point=point,
            month=read_month(raw["month"]),
            land_cover=read_text(raw["land_cover"]) or None,
            cloud_fraction=cloud_fraction,
            observed=ObservedClimateForm.read(raw["temp_c"], raw["precip_mm_day"], raw["solar_mj_m2_day"]),
            scenario=read_scenario(raw["temp_delta_c"], raw["precip_pct"]),
            mode=mode,
            control_months_before=read_int(raw["control_months_before"], "ControlNet months before", default=1),
            model=_model_choice(raw, default_model),
            sampling=SamplingForm.read(raw),
            projection=ProjectionChoice.read(raw["ssp"], raw["horizon"], raw["normals_years"]),
            edit=EditChoice.read(raw, mode),
        )

    def require_land_cover(self) -> str:
        if not self.land_cover:
            raise NO_LAND_COVER
        return self.land_cover

    def observed_climate(self) -> ClimateValues:
        """The observed climate of the month; every generation starts from it."""
        climate = self.observed.values()
        if climate is None:
            raise BadRequestError(
                f"The climate of {self.month} is not known (NASA POWER has no value, or the boxes are empty).",
                "Observe a month that has climate data, or type temperature, precipitation and radiation in the "
                "'Observed climate' tab.",
            )
        return climate


def _base_values(values: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """The Generate form's share of a longer form's values, with what the longer form fixes."""
    base = {name: values.get(name) for name in GenerateForm.FIELDS}
    base.update(overrides)
    return base


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRequestError(f"Unknown {name} {value!r}.", f"Use one of {', '.join(allowed)}.")
    return value


@dataclass(frozen=True)
class TimelapseForm:
    """The `/timelapse` endpoint: a Generate form in text mode over a run of months."""

    FIELDS = (
        "lat", "lon", "start", "end", "climate_source", "temp_delta_c", "precip_pct", "chain", "side_by_side",
        "video_format", "fps", "land_cover", "cloud_pct", "model_id", "seed", "steps", "guidance", "size_px",
        "controlnet", "lora", "lora_scale", "ssp", "horizon", "normals_years",
    )  # fmt: skip
    base: GenerateForm
    start: Month
    end: Month
    climate_source: str
    chain: str
    side_by_side: bool
    video_format: str
    fps: float

    @classmethod
    def parse(cls, values: Mapping[str, Any], default_model: str) -> TimelapseForm:
        start, end = read_month(values["start"], "start month"), read_month(values["end"], "end month")
        source = _one_of("climate", read_text(values["climate_source"]) or "observed", ("observed", "scenario"))
        chain = _one_of("frame chaining", read_text(values["chain"]) or "independent", ("independent", "controlnet"))
        video_format = _one_of("format", read_text(values["video_format"]) or "gif", ("gif", "mp4"))
        # Each frame's climate is its own month's (looked up by core), not the boxes' one month.
        base_values = _base_values(
            values, month=str(start), mode="text", temp_c=None, precip_mm_day=None, solar_mj_m2_day=None
        )
        if source == "observed":  # no scenario at all: neither the sliders' nor a picked projection
            base_values.update(temp_delta_c=0, precip_pct=0, ssp="")
        months = end - start + 1
        if months < 1:
            raise BadRequestError(f"The end month {end} is before the start month {start}.", "Swap them.")
        if months > MAX_TIMELAPSE_MONTHS:
            raise BadRequestError(
                f"{months} months is too long for one time-lapse in the app.",
                f"Pick at most {MAX_TIMELAPSE_MONTHS} months (the command line has no such limit).",
            )
        return cls(
            base=GenerateForm.parse(base_values, default_model),
            start=start,
            end=end,
            climate_source=source,
            chain=chain,
            side_by_side=bool(values.get("side_by_side")),
            video_format=video_format,
            fps=limits.FRAMES_PER_SECOND.check("fps", read_number_or(values.get("fps"), "frames per second", 2.0)),
        )

    @property
    def mode(self) -> str:
        """The model's mode: a ControlNet chain grows each frame from the one before."""
        return "controlnet" if self.chain == "controlnet" else "text"


@dataclass(frozen=True)
class GridForm:
    """The `/scenario_grid` endpoint: one month under temperature (rows) x precipitation (columns) changes."""

    FIELDS = (
        "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
        "temp_deltas_text", "precip_pcts_text", "model_id", "seed", "steps", "guidance", "size_px", "lora",
        "lora_scale", "ssp", "horizon", "normals_years",
    )  # fmt: skip
    base: GenerateForm
    temp_deltas_c: tuple[float, ...]
    precip_changes_pct: tuple[float, ...]

    @classmethod
    def parse(cls, values: Mapping[str, Any], default_model: str) -> GridForm:
        return cls(
            base=GenerateForm.parse(_base_values(values, mode="text", temp_delta_c=0, precip_pct=0), default_model),
            temp_deltas_c=tuple(read_number_list(values.get("temp_deltas_text"), "temperature changes (°C)")),
            precip_changes_pct=tuple(read_number_list(values.get("precip_pcts_text"), "precipitation changes (%)")),
        )


@dataclass(frozen=True)
class ModelsForm:
    """The `/compare_models` endpoint: one place, month, climate, scenario and seed for every generator."""

    FIELDS = (
        "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
        "temp_delta_c", "precip_pct", "seed", "ssp", "horizon", "normals_years",
    )  # fmt: skip
    point: Point
    month: Month
    land_cover: str
    cloud_fraction: float
    observed_climate: ClimateValues | None
    scenario: Scenario
    seed: int
    projection: ProjectionChoice | None = None  # a picked CMIP6 SSP x horizon replaces the sliders' scenario

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> ModelsForm:
        land_cover = read_text(values.get("land_cover"))
        if not land_cover:
            raise NO_LAND_COVER
        point, month = read_point(values.get("lat"), values.get("lon")), read_month(values.get("month"))
        observed = ObservedClimateForm.read(
            values.get("temp_c"), values.get("precip_mm_day"), values.get("solar_mj_m2_day")
        )
        return cls(
            point=point,
            month=month,
            land_cover=land_cover,
            cloud_fraction=read_cloud_fraction(values.get("cloud_pct")),
            observed_climate=observed.values(),
            scenario=read_scenario(values.get("temp_delta_c"), values.get("precip_pct")),
            seed=limits.GENERATION_SEED.check("seed", read_int(values.get("seed"), "seed", default=0)),
            projection=ProjectionChoice.read(values.get("ssp"), values.get("horizon"), values.get("normals_years")),
        )
