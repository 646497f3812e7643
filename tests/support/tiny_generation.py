"""The tiny random SD3 request the generation tests start from (Kenya, March 2021, 64 px, 2 steps)."""

from __future__ import annotations

from core.climate.values import ClimateValues
from core.generation.request import GenerationRequest
from core.geo import Month, Point

KENYA = Point(-1.5, 36.8)


def tiny_generation_request(**changes) -> GenerationRequest:
    """A small, fast request near Nairobi; `changes` replace any field."""
    fields = dict(
        point=KENYA,
        month=Month(2021, 3),
        land_cover="Croplands",
        climate=ClimateValues(21.4, 3.2, 19.9),
        seed=7,
        num_inference_steps=2,
        size_px=64,
        state="Nairobi",
        country="Kenya",
    )
    return GenerationRequest(**{**fields, **changes})
