"""Turn core results into the short texts the app shows (Markdown, labels, file names)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

TINY_MODEL_ID = "tiny-random"
DOWNLOAD_HINT = (
    "To get real weights: accept the licence of `stabilityai/stable-diffusion-3-medium-diffusers` on the "
    "Hugging Face Hub, log in (`huggingface-cli login` or set `HF_TOKEN`), then run "
    "`python -m core download --model sd3-medium` (or put a diffusers folder in `checkpoints/` and pass "
    "`--model PATH`)."
)

GATED_HINT = (
    "SD3 is gated: accept its licence on the Hugging Face Hub and log in (`huggingface-cli login` or `HF_TOKEN`) "
    "before downloading."
)


def model_banner(model_id: str, weights_present: bool | None, detail: str = "") -> str:
    """The Markdown banner above the app: empty when a real model with weights is configured.

    Args:
        model_id: the configured model id or path.
        weights_present: True when the weights are on disk, False when not, None when unknown.
        detail: an extra sentence (e.g. why the weights could not be found).
    """
    if model_id == TINY_MODEL_ID:
        return (
            "⚠️ **Model `tiny-random`**: a tiny randomly initialised SD3 for tests and smoke checks. "
            "It runs the whole pipeline in seconds but its images are **noise**, not predictions. " + DOWNLOAD_HINT
        )
    if weights_present is False:
        how = detail or DOWNLOAD_HINT
        return (
            f"⚠️ **The weights of `{model_id}` are not on this machine**, so generating will fail until they are. "
            f"{how} {GATED_HINT} Observing real imagery and climate works without them."
        )
    return ""


def format_number(value: float | None, digits: int = 1, unit: str = "") -> str:
    """A number for display; '—' when missing or not finite."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    text = f"{value:.{digits}f}"
    return f"{text} {unit}".strip()


def format_percent(fraction: float | None, digits: int = 0) -> str:
    """A 0..1 fraction as a percentage; '—' when missing."""
    if fraction is None or not math.isfinite(fraction):
        return "—"
    return f"{100.0 * fraction:.{digits}f} %"


def format_climate(temp_c: float, precip_mm_day: float, solar_mj_m2_day: float) -> str:
    """One line with the three climate values and their units."""
    return (
        f"{format_number(temp_c, 1, '°C')} · {format_number(precip_mm_day, 2, 'mm/day')} · "
        f"{format_number(solar_mj_m2_day, 1, 'MJ/m²/day')}"
    )


def format_timings(timings_s: Mapping[str, float]) -> str:
    """Step timings as 'encode 0.05 s, denoise 4.20 s' (core names them `encode_s`, ...)."""
    return ", ".join(f"{name.removesuffix('_s')} {seconds:.2f} s" for name, seconds in timings_s.items())


def format_observation(
    *,
    point_label: str,
    place_label: str,
    month: str,
    acquired: datetime,
    scene_id: str,
    cloud_fraction: float,
    nodata_fraction: float,
    provider: str,
    climate_line: str | None,
    land_cover_line: str,
) -> str:
    """Markdown that goes beside the observed image."""
    lines = [
        f"**{place_label}** ({point_label}) — {month}",
        "",
        f"- Acquired: {acquired.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Scene: `{scene_id}` ({provider})",
        f"- Cloud cover over the footprint: {format_percent(cloud_fraction)}",
    ]
    if nodata_fraction > 0.005:
        lines.append(f"- No-data pixels: {format_percent(nodata_fraction)}")
    lines.append(f"- Climate this month (NASA POWER): {climate_line or 'not available'}")
    lines.append(f"- Land cover: {land_cover_line}")
    return "\n".join(lines)


def format_metrics(values: Mapping[str, float | str | None]) -> str:
    """A Markdown table of metric name -> value (numbers to 3 decimals, text as given)."""
    rows = ["| metric | value |", "|---|---|"]
    for name, value in values.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = format_number(float(value), 3)
        else:
            shown = str(value) if value is not None else "—"
        rows.append(f"| {name} | {shown} |")
    return "\n".join(rows)


def scenario_label(temp_delta_c: float, precip_pct: float) -> str:
    """A caption like '+2.0 °C, -20 % precip' for a scenario variant."""
    return f"{temp_delta_c:+.1f} °C, {precip_pct:+.0f} % precip"


def safe_filename(*parts: object) -> str:
    """File-name stem from parts: letters, digits, '.', '-', '_' only."""
    joined = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", joined).strip("-_.")
    return cleaned or "ecomapper"


def point_stem(lat: float, lon: float) -> str:
    """A file-name-safe rendering of a point, e.g. '24.8000N_11.4000W'."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.4f}{ns}_{abs(lon):.4f}{ew}"
