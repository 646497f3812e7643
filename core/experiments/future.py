"""The paper's future-climate experiment (the original validation/condition_experiments_new.py).

Input: a CSV as the original reads it, one row per location and month, with the dataset columns
(`location_id`, `date`, `type`, `cloud_coverage`, `location_address`, `average_temp`,
`average_prep`, `average_rad`, `img_path`) and projected climate per year in the columns
`2050_temp`, `2050_pr`, `2050_rsds`, `2075_*`, `2100_*` (deg C, mm/day, MJ/m^2/day); a missing
projection falls back to the observed value, as in the original. Projections can come from CMIP6
(issue "Projected climate").

For each row the model generates the place in 2050, 2075 and 2100 from one fixed initial latent,
with the row's real image as ControlNet control when a ControlNet is loaded. Captions are the
original's: the spatial caption with the future year and the climate sentence with the projected
values (the original's future captions start with a capital "A").
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BadRequestError
from core.geo import Month
from core.io.files import atomic_output, atomic_write_json
from core.io.safe_names import safe_name

log = logging.getLogger(__name__)

FUTURE_YEARS = (2050, 2075, 2100)
REQUIRED_COLUMNS = ("location_id", "date", "type", "cloud_coverage", "location_address", "average_temp",
                    "average_prep", "average_rad")  # fmt: skip
# the original's column suffixes for each projected variable, and the observed column they fall back to
PROJECTED = (("temp", "average_temp"), ("pr", "average_prep"), ("rsds", "average_rad"))


@dataclass(frozen=True)
class FutureRow:
    location_id: str
    month: Month
    land_cover: str
    cloud_fraction: float
    address: str
    observed: tuple[float, float, float]
    projected: dict[int, tuple[float, float, float]]
    image_path: Path | None


def _number(row: dict, column: str, line: int, csv_path: Path) -> float:
    try:
        value = float(row[column])
    except (KeyError, TypeError, ValueError) as err:
        raise BadRequestError(
            f"{csv_path}, line {line}: `{column}` is {row.get(column)!r}, not a number.", "Fix the CSV."
        ) from err
    if not math.isfinite(value):
        raise BadRequestError(f"{csv_path}, line {line}: `{column}` is not finite.", "Fix the CSV.")
    return value


def _location_id(row: dict, line: int, csv_path: Path) -> str:
    # the id names the row's folder and files under --out: "../x" would write outside it
    try:
        return safe_name(row["location_id"], "location id")
    except BadRequestError as err:
        raise BadRequestError(f"{csv_path}, line {line}: {err.problem}", err.fix) from err


def _land_cover(row: dict, line: int, csv_path: Path) -> str:
    from core.sources.landcover import check_land_cover

    try:
        return check_land_cover(row["type"])
    except BadRequestError as err:
        raise BadRequestError(f"{csv_path}, line {line}: `type` {err.problem}", err.fix) from err


def read_future_csv(
    csv_path: Path, data_root: Path | None = None, years: tuple[int, ...] = FUTURE_YEARS
) -> list[FutureRow]:
    """Rows of a future-climate CSV (see the module docstring)."""
    from core.io.inputs import read_text

    text = read_text(csv_path, "future-climate CSV", "Give a UTF-8 CSV file.")  # no FIFO, device or folder
    rows = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BadRequestError(
            f"{csv_path} lacks the column(s) {', '.join(missing)}.",
            f"Give the dataset columns {', '.join(REQUIRED_COLUMNS)} and e.g. 2050_temp, 2050_pr, 2050_rsds.",
        )
    for line, raw in enumerate(reader, start=2):
        location_id = _location_id(raw, line, csv_path)
        observed = tuple(_number(raw, column, line, csv_path) for _, column in PROJECTED)
        projected = {}
        for year in years:
            values = []
            for (suffix, _), fallback in zip(PROJECTED, observed, strict=True):
                column = f"{year}_{suffix}"
                present = raw.get(column) not in (None, "")
                values.append(_number(raw, column, line, csv_path) if present else fallback)
            projected[year] = tuple(values)
        image = None
        if raw.get("img_path"):
            image = Path(raw["img_path"])
            if data_root is not None and not image.is_absolute():
                image = Path(data_root) / location_id / image
        rows.append(
            FutureRow(
                location_id=location_id,
                month=Month.parse(raw["date"]),
                land_cover=_land_cover(raw, line, csv_path),
                cloud_fraction=_number(raw, "cloud_coverage", line, csv_path),
                address=raw["location_address"],
                observed=observed,
                projected=projected,
                image_path=image,
            )
        )
    if not rows:
        raise BadRequestError(f"{csv_path} has no rows.", "Add at least one location.")
    return rows


def future_prompts(row: FutureRow, year: int) -> tuple[str, str]:
    """(CLIP prompt, T5 prompt) of a row in a future year, as the original experiment writes them."""
    from core.climate.values import ClimateValues
    from core.generation.prompts import PromptInputs, build_prompts, split_address

    state, country = split_address(row.address)
    temp, precip, rad = row.projected[year]
    inputs = PromptInputs(
        land_cover=row.land_cover,
        cloud_fraction=row.cloud_fraction,
        country=country,
        state=state,
        month=Month(year, row.month.month),
        climate=ClimateValues(temp, precip, rad),
    )
    prompts = build_prompts(inputs)
    # the original's future captions begin "A ..." where the training captions say "a ..."
    return "A" + prompts.spatial[1:], "A" + prompts.climate[1:]


@dataclass
class FutureResult:
    images: list[Path] = field(default_factory=list)


def run_future(
    pipe: Any,
    rows: list[FutureRow],
    out_dir: Path,
    *,
    years: tuple[int, ...] = FUTURE_YEARS,
    seed: int = 7777,
    size_px: int = 512,
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    progress: Callable[[int, int, str], None] | None = None,
) -> FutureResult:
    """Generate each row in each future year: `<out>/<loc>/<loc>_<year>-<MM>.png` + `.json` with the prompts.

    `pipe` is a text-to-image or ControlNet SD3 pipeline; with a ControlNet the row's real image is the control.
    """
    from PIL import Image

    from core.dataset.reader import load_rgb
    from core.models.fixed_latents import generate_from_latents, initial_latents

    for row in rows:  # every row's folder and files are named by its id: refuse a bad one before any work
        safe_name(row.location_id, "location id")
    uses_control = hasattr(pipe, "controlnet")
    result = FutureResult()
    total = len(rows) * len(years)
    done = 0
    for index, row in enumerate(rows):
        latents = initial_latents(pipe, seed + index, size_px)  # one fixed noise for the row's three years
        control = None
        if uses_control:
            if row.image_path is None or not row.image_path.is_file():
                raise BadRequestError(
                    f"Row {row.location_id} {row.month} has no image at {row.image_path} for the ControlNet control.",
                    "Give --data (the dataset root) so that <data>/<location_id>/<img_path> exists.",
                )
            control = Image.fromarray(load_rgb(row.image_path)).resize((size_px, size_px), Image.Resampling.BICUBIC)
        for year in years:
            short, long = future_prompts(row, year)
            pixels = generate_from_latents(
                pipe,
                latents,
                (short, long),
                size_px=size_px,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                control_image=control,
            )
            name = f"{row.location_id}_{year}-{row.month.month:02d}"
            path = Path(out_dir) / safe_name(row.location_id, "location id") / f"{name}.png"
            with atomic_output(path) as tmp:
                Image.fromarray(pixels).save(tmp, format="PNG")
            atomic_write_json(
                path.with_suffix(".json"),
                {
                    "location_id": row.location_id,
                    "year": year,
                    "month": row.month.month,
                    "source_month": str(row.month),
                    "control_image": str(row.image_path) if control is not None else None,
                    "projected": dict(
                        zip(("temp_c", "precip_mm_day", "solar_mj_m2_day"), row.projected[year], strict=True)
                    ),
                    "prompt_short": short,
                    "prompt_long": long,
                    "seed": seed + index,
                },
            )
            result.images.append(path)
            done += 1
            if progress:
                progress(done, total, name)
    return result
