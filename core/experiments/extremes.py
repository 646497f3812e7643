"""The paper's absolute extreme-climate experiment (the original validation/experiments_new.py).

For each seed (333, 666, 999) one initial latent is drawn at 1024 px (128 x 128 latents) and
reused for every image; for each location, land cover and month the model generates the three
absolute climates (T, P, R) = (-10 C, 0 mm, 1), (20, 20, 10), (40, 50, 30) and a 1 x 3 figure
is written with each panel titled "Temperature / Precip / Radiation", as the paper lays it out.
The prompts are the original experiment's, character for character (year 2019, no cloud
words, "precipitation of {P} mm"), which differ slightly from the training captions.
Variants: `drop_month` (one month, left out of the prompt), `drop_location` (one location, left
out), word mode, and the grids "radiation" (our reading of the paper's radiation variant: each
(T, P) of the diagonal at R = 1, 10, 30) and "full" (all 27 combinations).
"""

from __future__ import annotations

import calendar
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BadRequestError
from core.generation.prompts import climate_words
from core.io.files import atomic_output, atomic_write_json
from core.io.safe_names import safe_label
from core.sources.landcover import check_land_cover

log = logging.getLogger(__name__)

PAPER_SEEDS = (333, 666, 999)
# the three absolute climates of the paper's figure: (temperature C, precipitation mm, radiation)
PAPER_CLIMATES = ((-10, 0, 1), (20, 20, 10), (40, 50, 30))
TEMPERATURES = (-10, 20, 40)
PRECIPITATIONS = (0, 20, 50)
RADIATIONS = (1, 10, 30)
PAPER_MONTHS = ("January", "July", "December", "March", "August")
PAPER_LOCATIONS = (
    "Moscow, Russia",
    "Cape Town, South Africa",
    "Chicago, United States",
    "Ontario, Canada",
    "Sydney, Australia",
    "Germany",
    "Hamburg, Germany",
    "Munich, Germany",
)
PAPER_LAND_COVERS = (
    "Evergreen Needleleaf Forests",
    "Barren or Sparsely Vegetated",
    "Croplands",
    "Grasslands",
    "Open Shrublands",
    "Savannas",
    "Woody Savannas",
    "Evergreen Broadleaf Forests",
)
# with drop_location the original keeps a single (unnamed) location and with drop_month January
DROPPED_LOCATION = "Beijing, China"
DROPPED_MONTH = "January"
PROMPT_YEAR = 2019
GRIDS = ("diagonal", "radiation", "full")


def grid_climates(grid: str) -> tuple[tuple[int, int, int], ...]:
    """The (T, P, R) cells of a grid, in the figure's order."""
    if grid == "diagonal":
        return PAPER_CLIMATES
    if grid == "radiation":
        return tuple((t, p, r) for t, p, _ in PAPER_CLIMATES for r in RADIATIONS)
    if grid == "full":
        return tuple((t, p, r) for t in TEMPERATURES for p in PRECIPITATIONS for r in RADIATIONS)
    raise BadRequestError(f"Unknown grid {grid!r}.", f"Use one of {', '.join(GRIDS)}.")


def _month_name(name: str) -> str:
    """The English month name, as the original experiment writes it in the prompt."""
    for known in calendar.month_name[1:]:
        if known.lower() == str(name).strip().lower():
            return known
    raise BadRequestError(f"--months: {name!r} is not a month name.", "Use e.g. January;July;December.")


def extreme_prompts(
    location: str,
    land_cover: str,
    month: str,
    temp: float,
    precip: float,
    rad: float,
    word_mode: bool = False,
    drop_month: bool = False,
    drop_location: bool = False,
) -> tuple[str, str]:
    """(CLIP prompt, T5 prompt) as the original experiment writes them."""
    location_part = "" if drop_location else f" in {location}"
    month_part = "" if drop_month else f" {month}"
    short = f"a satellite image of {land_cover}{location_part} on{month_part} {PROMPT_YEAR}."
    if word_mode:
        from core.climate.values import ClimateValues

        t, p, r = climate_words(ClimateValues(float(temp), float(precip), float(rad)))
        return short, short + (
            f" The average temperature over the last month was {t}, with {p} precipitation, "
            f"and {r} daily solar radiation."
        )
    return short, short + (
        f" The average temperature over the last month was {temp} C. with an average precipitation of {precip} mm, "
        f"and an average daily solar radiation of {rad} W/m2."
    )


@dataclass(frozen=True)
class ExtremesRequest:
    """What to run; defaults are the paper's."""

    out_dir: Path
    seeds: tuple[int, ...] = PAPER_SEEDS
    locations: tuple[str, ...] = PAPER_LOCATIONS
    land_covers: tuple[str, ...] = PAPER_LAND_COVERS
    months: tuple[str, ...] = PAPER_MONTHS
    grid: str = "diagonal"
    size_px: int = 1024
    num_inference_steps: int = 50
    guidance_scale: float = 7.5
    word_mode: bool = False
    drop_month: bool = False
    drop_location: bool = False

    def __post_init__(self) -> None:
        from core import limits

        grid_climates(self.grid)
        limits.IMAGE_SIZE_PX.check("--size", self.size_px)
        limits.INFERENCE_STEPS.check("--steps", self.num_inference_steps)
        limits.GUIDANCE_SCALE.check("--guidance", self.guidance_scale)
        if not self.seeds:
            raise BadRequestError("No seed given.", "The paper uses 333, 666 and 999.")
        limits.EXPERIMENT_SEEDS.check("number of --seeds", len(self.seeds))
        for seed in self.seeds:
            limits.GENERATION_SEED.check("--seeds", seed)
        for option, values in (("--locations", self.locations), ("--land-covers", self.land_covers),
                               ("--months", self.months)):  # fmt: skip
            limits.EXPERIMENT_LIST.check(f"number of {option}", len(values))
        object.__setattr__(self, "locations", tuple(safe_label(p, "location") for p in self.locations))
        object.__setattr__(self, "land_covers", tuple(check_land_cover(c) for c in self.land_covers))
        object.__setattr__(self, "months", tuple(_month_name(m) for m in self.months))
        locations, months = self.effective()
        images = len(self.seeds) * len(locations) * len(self.land_covers) * len(months) * len(grid_climates(self.grid))
        limits.EXPERIMENT_IMAGES.check("seeds x locations x land covers x months x climates", images)

    def effective(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(locations, months) after the drop variants, as the original narrows them."""
        locations = (DROPPED_LOCATION,) if self.drop_location else self.locations
        months = (DROPPED_MONTH,) if self.drop_month else self.months
        return locations, months

    def variant_dir(self, seed: int) -> Path:
        return (
            self.out_dir
            / str(seed)
            / ("with_words" if self.word_mode else "with_numerical")
            / ("drop_month" if self.drop_month else "with_month")
            / ("drop_location" if self.drop_location else "with_location")
        )


@dataclass
class ExtremesResult:
    figures: list[Path] = field(default_factory=list)
    images: list[Path] = field(default_factory=list)


def render(pipe: Any, latents: Any, prompts: tuple[str, str], request: ExtremesRequest) -> Any:
    """One image (uint8 H x W x 3) from fixed latents."""
    from core.models.fixed_latents import generate_from_latents

    return generate_from_latents(
        pipe,
        latents,
        prompts,
        size_px=request.size_px,
        num_inference_steps=request.num_inference_steps,
        guidance_scale=request.guidance_scale,
    )


def write_figure(panels: list[tuple[Any, tuple[int, int, int]]], path: Path) -> Path:
    """The paper's layout: one row of panels, each titled with its temperature, precipitation, radiation."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    columns = 3 if len(panels) % 3 == 0 else len(panels)
    rows = max(1, len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(25, 15 * rows / max(1, rows)), squeeze=False)
    for axis, (image, (temp, precip, rad)) in zip(axes.flatten(), panels, strict=True):
        axis.imshow(image)
        axis.axis("off")
        axis.set_title(f"Temperature: {temp}°C\nPrecip: {precip}mm\nRadiation: {rad}W/m²", fontsize=8, pad=10)
    figure.tight_layout()
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png")
    plt.close(figure)
    return path


def run_extremes(
    pipe: Any, request: ExtremesRequest, progress: Callable[[int, int, str], None] | None = None
) -> ExtremesResult:
    """Generate every figure of the experiment; images and prompts are written beside the figures."""
    from PIL import Image

    from core.models.fixed_latents import initial_latents

    result = ExtremesResult()
    locations, months = request.effective()
    climates = grid_climates(request.grid)
    total = len(request.seeds) * len(locations) * len(request.land_covers) * len(months) * len(climates)
    done = 0
    for seed in request.seeds:
        latents = initial_latents(pipe, seed, request.size_px)
        root = request.variant_dir(seed)
        for location in locations:
            for land_cover in request.land_covers:
                for month in months:
                    folder = root / location / land_cover
                    panels, records = [], []
                    for temp, precip, rad in climates:
                        prompts = extreme_prompts(
                            location,
                            land_cover,
                            month,
                            temp,
                            precip,
                            rad,
                            request.word_mode,
                            request.drop_month,
                            request.drop_location,
                        )
                        image = render(pipe, latents, prompts, request)
                        path = folder / f"{month}_T{temp}_P{precip}_R{rad}.png"
                        with atomic_output(path) as tmp:
                            Image.fromarray(image).save(tmp, format="PNG")
                        result.images.append(path)
                        panels.append((image, (temp, precip, rad)))
                        records.append(
                            {"temp_c": temp, "precip_mm": precip, "radiation": rad, "image": path.name,
                             "prompt": prompts[0], "prompt_3": prompts[1]}
                        )  # fmt: skip
                        done += 1
                        if progress:
                            progress(done, total, f"seed {seed} {location} {land_cover} {month}")
                    result.figures.append(write_figure(panels, folder / f"{month}_experiment.png"))
                    atomic_write_json(
                        folder / f"{month}_experiment.json",
                        {"seed": seed, "size_px": request.size_px, "grid": request.grid, "cells": records},
                    )
    log.info("extremes: %d figures, %d images under %s", len(result.figures), len(result.images), request.out_dir)
    atomic_write_json(
        request.out_dir / "extremes.json",
        json.loads(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in request.__dict__.items()})),
    )
    return result
