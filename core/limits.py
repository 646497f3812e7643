"""Named ranges for every size, count, step, rate and number a user can set (CLI, app, recipes, TOML, settings).

One table, so the app, the command line and the config readers refuse the same values with the
same message ("<field> = <value> is outside <low>..<high> <unit>") before any work starts. The
upper bounds keep one request from exhausting a shared machine (a 100000 px training side asks
for tens of GB); they are generous for real use. The table is printed in docs/limits.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

from core.errors import BadRequestError


@dataclass(frozen=True)
class Limit:
    """A closed range [low, high] for one kind of value.

    Args:
        low, high: the inclusive bounds.
        unit: shown after the range ("px", "steps", "fps").
        whole: only whole numbers (ints) are accepted.
        multiple_of: whole values must also be a multiple of this (SD3 sides: 16).
        hint: what a sensible value is, for the fix part of the message.
    """

    low: float
    high: float
    unit: str = ""
    whole: bool = False
    multiple_of: int = 1
    hint: str = ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        step = f", a multiple of {self.multiple_of}" if self.multiple_of > 1 else ""
        return f"{_fmt(self.low)}..{_fmt(self.high)}{unit}{step}"

    def check(self, field: str, value: object) -> int | float:
        """Return `value` (int for whole limits) or raise BadRequestError naming `field` and the range."""
        fix = self.hint or f"Use a value in {self.describe()}."
        if isinstance(value, bool) or not isinstance(value, Real):
            raise BadRequestError(f"{field} = {value!r} is not a number (allowed: {self.describe()}).", fix)
        if self.whole:
            if not isinstance(value, Integral) and (not math.isfinite(value) or value != int(value)):
                raise BadRequestError(f"{field} = {value!r} is not a whole number (allowed: {self.describe()}).", fix)
            value = int(value)
        elif not math.isfinite(value):
            raise BadRequestError(f"{field} = {value!r} is not a finite number (allowed: {self.describe()}).", fix)
        if not self.low <= value <= self.high:
            raise BadRequestError(f"{field} = {_fmt(value)} is outside {self.describe()}.", fix)
        if self.whole and value % self.multiple_of:
            raise BadRequestError(
                f"{field} = {_fmt(value)} is not a multiple of {self.multiple_of} (allowed: {self.describe()}).", fix
            )
        return value


def _fmt(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}".replace(",", "_") if isinstance(value, int) and abs(value) >= 100_000 else f"{value:g}"


# --- generation (CLI generate / timelapse, the app, recipes, evaluate) --------------------------
# SD3 sides divide by 16 (VAE 8 x patch 2); 512 is EcoMapper's footprint, 1024 its high-res mode.
IMAGE_SIZE_PX = Limit(64, 1024, "px", whole=True, multiple_of=16, hint="Use 512 (the footprint) or 1024.")
INFERENCE_STEPS = Limit(1, 500, "steps", whole=True, hint="EcoMapper uses 50 steps.")
GUIDANCE_SCALE = Limit(0.0, 30.0, hint="EcoMapper uses 7.5.")
GENERATION_SEED = Limit(0, 2**63 - 1, whole=True, hint="Use a whole number such as 0.")
CONTROLNET_SCALE = Limit(0.0, 2.0, hint="Use 1.0.")
LORA_SCALE = Limit(0.0, 4.0, hint="Use 1.0 (0 is the base model).")
CLOUD_FRACTION = Limit(0.0, 1.0, hint="Give a fraction from 0 to 1.")
# --- time-lapse -----------------------------------------------------------------------------
FRAMES_PER_SECOND = Limit(0.2, 30.0, "fps", hint="Use e.g. 2 frames per second.")
TIMELAPSE_BATCH = Limit(1, 64, "frames", whole=True, hint="Use 1 on a CPU.")
TIMELAPSE_MONTHS = Limit(1, 240, "months", whole=True, hint="Split longer series into several runs.")
TEMP_DELTA_C = Limit(-30.0, 30.0, "°C", hint="Use a change such as +2.")
PRECIP_SCALE = Limit(0.0, 10.0, hint="Use a factor such as 1.2.")
# --- region (python -m core region) ---------------------------------------------------------
# One side of a region: at least one tile (the 5.12 km footprint, whatever --size), at most 20 km.
REGION_SIDE_KM = Limit(5.12, 20.0, "km", hint="Use e.g. 10.24 x 7.68 km (regions are cut in 5.12 km tiles).")
# 200 km² (e.g. 20 x 10 km) is 2 Mpx at 10 m: 7 x 3 = 21 tiles x 50 steps of SD3 (~5 min on a GPU).
REGION_AREA_KM2 = Limit(26.2144, 200.0, "km²", hint="Split a larger area into several regions.")
# --- evaluate -------------------------------------------------------------------------------
EVALUATE_LIMIT = Limit(1, 10_000_000, "samples", whole=True)
EXTREME_PERCENTILE = Limit(0.5, 49.5, "%", hint="Use e.g. 10.")
EVALUATE_BATCH = Limit(1, 64, "images", whole=True, hint="Give 1 to 64, or leave it out.")
JPEG_QUALITY = Limit(1, 100, whole=True, hint="The paper's is 75.")
IMG2IMG_STRENGTH = Limit(0.0, 1.0, hint="Use e.g. 0.6.")
# --- experiment extremes / future, selfcheck, gapfill --evaluate -------------------------------
EXPERIMENT_SEEDS = Limit(1, 100, "seeds", whole=True, hint="The paper uses 3 seeds: 333,666,999.")
EXPERIMENT_LIST = Limit(1, 100, "entries", whole=True, hint="Split a longer list into several runs.")
# seeds x locations x land covers x months x climates: the paper's full grid is 3 x 8 x 8 x 5 x 27 = 25_920
EXPERIMENT_IMAGES = Limit(1, 50_000, "images", whole=True, hint="Fewer seeds, places, covers or months per run.")
FUTURE_YEAR = Limit(1950, 2100, whole=True, hint="CMIP6 projections run to 2100; the paper uses 2050,2075,2100.")
# rows x years of one future run (a locations CSV has at most MAX_LOCATION_ROWS rows)
FUTURE_IMAGES = Limit(1, 300_000, "images", whole=True, hint="Split the CSV into several runs.")
GAPFILL_CASES = Limit(1, 10_000, "cases", whole=True, hint="Use e.g. 12.")
# --- build-dataset --------------------------------------------------------------------------
DATASET_SIZE_PX = Limit(64, 2048, "px", whole=True, multiple_of=16, hint="EcoMapper uses 512.")
SAMPLE_LOCATIONS = Limit(1, 100_000, "locations", whole=True)
DATASET_MONTHS = Limit(1, 600, "months", whole=True, hint="Split longer periods into several builds.")
# locations x months of one build (EcoMapper's dataset is ~104k locations x 24 months ≈ 2.5 M pairs)
DATASET_ITEMS = Limit(1, 5_000_000, "images", whole=True, hint="Fewer locations or months per build.")
MAX_WORKERS = Limit(1, 64, "workers", whole=True, hint="Use 4.")
# worker processes of a local dask cluster (--scheduler local:N)
LOCAL_DASK_WORKERS = Limit(1, 64, "worker processes", whole=True, hint="Use the number of cores.")
DATA_SEED = Limit(0, 2**32 - 1, whole=True, hint="Use a whole number such as 0.")
# --- training (TOML) ------------------------------------------------------------------------
TRAIN_RESOLUTION_PX = Limit(64, 1024, "px", whole=True, multiple_of=16, hint="The paper trains at 512 (HR: 1024).")
# accelerate / numpy seeds are 32-bit
TRAIN_SEED = Limit(0, 2**32 - 1, whole=True, hint="Use a whole number such as 0.")
TRAIN_BATCH_SIZE = Limit(1, 256, "images", whole=True, hint="Use 1-8 per device and gradient accumulation.")
GRADIENT_ACCUMULATION = Limit(1, 1024, "micro-batches", whole=True)
TRAIN_MAX_STEPS = Limit(0, 10_000_000, "steps", whole=True)
TRAIN_EPOCHS = Limit(0, 100_000, "epochs", whole=True)
LEARNING_RATE = Limit(1e-10, 1.0, hint="The paper uses 2e-6.")
LORA_RANK = Limit(1, 1024, whole=True, hint="The paper uses 64.")
LORA_ALPHA = Limit(1e-6, 4096.0, hint="The paper uses 64.")
CONTROLNET_LAYERS = Limit(1, 64, "layers", whole=True, hint="The paper uses 12.")
MAX_SEQUENCE_LENGTH = Limit(1, 512, "tokens", whole=True, hint="EcoMapper uses 256.")
NUM_WORKERS = Limit(0, 64, "workers", whole=True)
VALIDATION_IMAGES = Limit(0, 64, "images", whole=True)
VALIDATION_STEPS = Limit(0, 500, "steps", whole=True)
# --- settings (ECOMAPPER_*) -----------------------------------------------------------------
TIMEOUT_S = Limit(0.1, 600.0, "s", hint="Use e.g. 30.")
RETRIES = Limit(0, 20, whole=True, hint="Use e.g. 4.")
BACKOFF_S = Limit(0.0, 60.0, "s", hint="Use e.g. 0.5.")
# how long a cached answer about a month that is not over yet stays fresh
FRESH_MONTH_TTL_S = Limit(0.0, 366 * 24 * 3600.0, "s", hint="Use e.g. 86400 (one day).")
# --- the app as a shared server -------------------------------------------------------------
UPLOAD_MB = Limit(1, 1024, "MB", whole=True, hint="Use 20 (a recipe with a 1024 px control image is ~4 MB).")
# --- files ----------------------------------------------------------------------------------
# Decoded pixels of any image a user hands us (control image, recipe, dataset, upload):
# 4096 x 4096 is 4x the largest output and 48 MB of RGB; a decompression bomb is refused unread.
MAX_IMAGE_PIXELS = 4096 * 4096
# A recipe holds at most a 1024 px PNG in base64 (~4 MB).
MAX_RECIPE_BYTES = 16 * 1024 * 1024
# Files in one upload request to the app (each widget uploads one; Gradio itself allows 1000).
UPLOAD_FILES_PER_REQUEST = 8
# A locations CSV is text and has at most this many rows.
MAX_LOCATION_ROWS = 100_000


def table() -> list[tuple[str, Limit]]:
    """Every named limit, in the order above (for docs and tests)."""
    return [(name, value) for name, value in globals().items() if isinstance(value, Limit)]
