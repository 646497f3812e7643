"""Widget values read once into typed forms, with messages that name the field that was wrong.

A Gradio event hands its handler one value per input widget. Each form below lists its fields in
the order of the public endpoint's parameters (`FIELDS`), and `parse` turns the raw values (numbers,
text typed with a decimal comma, empty boxes) into plain values once, so the handlers never see
twenty positional arguments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.projection_form import ProjectionChoice
from core.climate.scenario import SCENARIO_PRESETS, Scenario
from core.errors import BadRequestError
from core.geo import Month, Point

PICK_A_PLACE = BadRequestError(
    "No place is picked yet.", "Pick a place first: click the map, search a name, or type a latitude and a longitude."
)
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
    return int(number)


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


def read_scenario(temp_delta_c: Any, precip_pct: Any) -> Scenario:
    """The scenario of the two sliders; a preset's name when the numbers are a preset's."""
    scenario = Scenario.of_change(
        read_number_or(temp_delta_c, "temperature change", 0.0), read_number_or(precip_pct, "precipitation change", 0.0)
    )
    for preset in SCENARIO_PRESETS:
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
        return cls(
            seed=read_int(raw.get("seed"), "seed", default=0),
            steps=read_int(raw.get("steps"), "number of denoising steps", default=28),
            guidance=read_number_or(raw.get("guidance"), "guidance scale", 7.5),
            size_px=read_int(raw.get("size_px"), "size", default=512),
        )


@dataclass(frozen=True)
class GenerateForm:
    """The `/generate` endpoint (the parameter names are the documented gradio_client API)."""

    FIELDS = (
        "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
        "temp_delta_c", "precip_pct", "mode", "control_months_before", "model_id", "seed", "steps", "guidance",
        "size_px", "controlnet", "lora", "lora_scale", "ssp", "horizon", "normals_years",
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

    @classmethod
    def parse(cls, values: Mapping[str, Any] | tuple | list, default_model: str = "sd3-medium") -> GenerateForm:
        raw = _values(cls.FIELDS, values)
        point = read_point(raw["lat"], raw["lon"])
        mode = read_text(raw["mode"]) or "text"
        if mode not in ("text", "controlnet"):
            raise BadRequestError(f"Unknown mode {mode!r}.", "Use 'text' or 'controlnet'.")
        cloud_pct = read_number_or(raw["cloud_pct"], "cloud cover", 0.0)
        return cls(
            point=point,
            month=read_month(raw["month"]),
            land_cover=read_text(raw["land_cover"]) or None,
            cloud_fraction=min(max(cloud_pct, 0.0), 100.0) / 100.0,
            observed=ObservedClimateForm.read(raw["temp_c"], raw["precip_mm_day"], raw["solar_mj_m2_day"]),
            scenario=read_scenario(raw["temp_delta_c"], raw["precip_pct"]),
            mode=mode,
            control_months_before=read_int(raw["control_months_before"], "ControlNet months before", default=1),
            model=_model_choice(raw, default_model),
            sampling=SamplingForm.read(raw),
            projection=ProjectionChoice.read(raw["ssp"], raw["horizon"], raw["normals_years"]),
        )
