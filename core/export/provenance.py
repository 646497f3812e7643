"""Where a generated image came from, in one record every output carries: recipe, PNG metadata,
GeoTIFF tags, frame captions and the visible "AI-generated" label.

It keeps the observed climate, the scenario and the final climate apart (the scenario is never
folded into the numbers), plus model, seed, mode and control month. Numbers are rounded to the
precision they are shown with, so no file says 1.0779999999999998.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from core.climate.scenario import CLIMATE_DECIMALS, Scenario
from core.climate.values import ClimateValues
from core.generation.prompts import MONTH_NAMES
from core.geo import Month, Point

AI_GENERATED = "AI-generated"
# What a frame of the tiny random test model shows, said on the image itself.
NOISE_NOTE = "noise (tiny test model)"
SOFTWARE = "EcoMapper Studio"
COORDINATE_DECIMALS = 5  # ~1 m: more than the 10 m pixels need
FRACTION_DECIMALS = 4


def climate_dict(values: ClimateValues | None) -> dict[str, float] | None:
    """A climate as JSON at the recorded precision (None stays None)."""
    if values is None:
        return None
    return {key: round(value, CLIMATE_DECIMALS) for key, value in values.as_dict().items()}


def month_label(month: Month) -> str:
    """'March 2021'."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def place_label(point: Point, state: str | None, country: str) -> str:
    """'Nairobi, Kenya', or the coordinates when no country is known."""
    if country:
        return f"{state}, {country}" if state else country
    return point.label()


@dataclass(frozen=True)
class Provenance:
    """The facts about one generated image that every output records.

    Args:
        point, month: where and when the image shows.
        state, country: the place names used in the prompt.
        observed_climate: the climate the scenario started from (None when the prompt had none).
        scenario: the change applied to it.
        final_climate: the climate the model was asked for.
        model: the model description (`LoadedPipeline.describe()`: id, LoRA, ControlNet, device...).
        seed, mode, control_month: how it was sampled.
        is_noise: made by the tiny random test model (its pixels are noise, not a prediction).
    """

    point: Point
    month: Month
    state: str | None
    country: str
    observed_climate: ClimateValues | None
    scenario: Scenario
    final_climate: ClimateValues | None
    model_id: str
    seed: int
    mode: str
    control_month: Month | None = None
    is_noise: bool = False
    model: dict[str, Any] = field(default_factory=dict, compare=False)
    prompts: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, result: Any) -> Provenance:
        """The provenance of a `core.generation.request.GenerationResult`."""
        request = result.request
        info = result.model_info or {}
        return cls(
            point=request.point,
            month=request.month,
            state=request.state,
            country=request.country,
            observed_climate=request.observed_climate,
            scenario=request.scenario,
            final_climate=request.climate,
            model_id=result.model_id,
            seed=result.seed,
            mode=request.mode,
            control_month=request.control_month,
            is_noise=bool(info.get("is_tiny", False)),
            model=dict(info),
            prompts=result.prompts.as_dict(),
        )

    @property
    def place(self) -> str:
        return place_label(self.point, self.state, self.country)

    @property
    def label(self) -> str:
        """The visible mark: 'AI-generated · Nairobi, Kenya · March 2021 · +3 °C, −30 % rain'.

        The tiny test model adds 'noise (tiny test model)' right after 'AI-generated'.
        """
        return image_label(self.place, self.month, self.scenario, noise=self.is_noise)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, rounded to display precision."""
        return {
            "ai_generated": True,
            "label": self.label,
            "place": {
                "lat": round(self.point.lat, COORDINATE_DECIMALS),
                "lon": round(self.point.lon, COORDINATE_DECIMALS),
                "state": self.state,
                "country": self.country,
            },
            "month": str(self.month),
            "observed_climate": climate_dict(self.observed_climate),
            "scenario": self.scenario.as_dict(),
            "final_climate": climate_dict(self.final_climate),
            "model_id": self.model_id,
            "seed": self.seed,
            "mode": self.mode,
            "control_month": str(self.control_month) if self.control_month else None,
            "noise": self.is_noise,
        }

    def geotiff_tags(self) -> dict[str, str]:
        """Flat string tags for a GeoTIFF (GDAL metadata; TIFFTAG_* become the TIFF's own fields)."""
        flat = self.as_dict()
        tags = {
            "TIFFTAG_SOFTWARE": SOFTWARE,
            "TIFFTAG_IMAGEDESCRIPTION": self.label,
            "ai_generated": "true",
            "noise": "true" if self.is_noise else "false",
            "label": self.label,
            "lat": str(flat["place"]["lat"]),
            "lon": str(flat["place"]["lon"]),
            "place": self.place,
            "month": flat["month"],
            "observed_climate": json.dumps(flat["observed_climate"]),
            "scenario": json.dumps(flat["scenario"], ensure_ascii=False),
            "scenario_label": self.scenario.label,
            "final_climate": json.dumps(flat["final_climate"]),
            "model": self.model_id,
            "model_spec": json.dumps(_model_spec(self.model), ensure_ascii=False),
            "seed": str(self.seed),
            "mode": self.mode,
            "control_month": flat["control_month"] or "",
        }
        for key in ("spatial", "climate"):
            if key in self.prompts:
                tags["prompt" if key == "spatial" else "climate_prompt"] = self.prompts[key]
        return tags


def _model_spec(model: dict[str, Any]) -> dict[str, Any]:
    keys = ("model_id", "lora", "lora_scale", "controlnet", "device", "dtype", "cpu_offload", "drop_t5")
    return {k: model[k] for k in keys if k in model}


def image_label(
    place: str, month: Month | None, scenario: Scenario | None = None, *, noise: bool = False, real: bool = False
) -> str:
    """The mark drawn under an image: 'AI-generated · Kenya · March 2021 · today'.

    Args:
        place: 'Nairobi, Kenya' (see `place_label`).
        month: the month shown (None leaves it out).
        scenario: the scenario (None leaves it out).
        noise: the tiny random test model made it: say so next to 'AI-generated'.
        real: a real satellite image ('Sentinel-2' instead of 'AI-generated').
    """
    head = ["Sentinel-2 (real)"] if real else [AI_GENERATED] + ([NOISE_NOTE] if noise else [])
    parts = [*head, place]
    if month is not None:
        parts.append(month_label(month))
    if scenario is not None:
        parts.append(scenario.label)
    return " · ".join(part for part in parts if part)
