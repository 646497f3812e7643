"""Turn core results into the short texts the app shows (Markdown, labels, file names)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

TINY_MODEL_ID = "tiny-random"
DOWNLOAD_HINT = (
    "To get real weights: accept the licence of `stabilityai/stable-diffusion-3-medium-diffusers` on the "
    "Hugging Face Hub, log in (`hf auth login` or set `HF_TOKEN`), then run "
    "`python -m core download --model sd3-medium` (or put a diffusers folder in `checkpoints/` and pass "
    "`--model PATH`)."
)

GATED_HINT = (
    "SD3 is gated: accept its licence on the Hugging Face Hub and log in (`hf auth login` or `HF_TOKEN`) "
    "before downloading."
)


def model_notice(model_id: str, weights_present: bool | None) -> str:
    """The one line end users see about the model: '' for a real model whose weights are here.

    Users cannot fix missing weights, so they are only told what works; how to fix it goes to the
    server log (`operator_message`), for whoever runs the server.
    """
    if model_id == TINY_MODEL_ID:
        return "Test model `tiny-random`: generated images are **noise**, not predictions."
    if weights_present is False:
        return (
            f"Generating is not available on this server yet (the weights of `{model_id}` are missing). "
            "Observing real imagery and climate works."
        )
    return ""


def operator_message(model_id: str, weights_present: bool | None, detail: str = "") -> str:
    """What the person running the server should do about the model ('' when nothing), for the log."""
    if model_id == TINY_MODEL_ID:
        return f"Model tiny-random: images are noise (for tests). For real images: {DOWNLOAD_HINT}"
    if weights_present is False:
        how = detail or DOWNLOAD_HINT
        return f"The weights of {model_id} are not on this machine: generating will fail. {how} {GATED_HINT}"
    return ""


# The change sliders' labels; while a CMIP6 projection drives the scenario they name it.
TEMP_DELTA_LABEL = "Temperature change (°C)"
PRECIP_PCT_LABEL = "Precipitation change (%)"


def slider_labels(projection_label: str | None = None) -> tuple[str, str]:
    """(temperature, precipitation) slider labels: '… · SSP2-4.5 2050, month 02' while a projection is in use."""
    if not projection_label:
        return TEMP_DELTA_LABEL, PRECIP_PCT_LABEL
    return f"{TEMP_DELTA_LABEL} · {projection_label}", f"{PRECIP_PCT_LABEL} · {projection_label}"


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


def format_climate_values(climate) -> str:
    """`format_climate` of a ClimateValues."""
    return format_climate(climate.temp_c, climate.precip_mm_day, climate.solar_mj_m2_day)


def climate_boxes(climate) -> tuple[str, str, str]:
    """The observed climate as the three boxes show it (rounded to their display precision); '' when missing."""
    if climate is None:
        return "", "", ""
    return f"{climate.temp_c:.1f}", f"{climate.precip_mm_day:.2f}", f"{climate.solar_mj_m2_day:.1f}"


def observed_line(month: str, scene, climate, land_cover: str | None) -> str:
    """One line under the month: what was observed there, each part on its own."""
    if scene is not None:
        image = f"Sentinel-2 {scene.acquired:%Y-%m-%d}, {format_percent(scene.cloud_fraction)} cloud"
    else:
        # The reason is long (scene search, cloud cover): it is in the toast and the Climate tab.
        image = "⚠️ no Sentinel-2 image this month"
    climate_text = format_climate_values(climate) if climate else "⚠️ no climate"
    return f"**{month}** · {image} · {climate_text} · {land_cover or '⚠️ choose a land cover'}"


def format_observation(
    *,
    point_label: str,
    place_label: str,
    month: str,
    scene,
    scene_problem: str,
    climate_line: str | None,
    land_cover_line: str,
) -> str:
    """Markdown with the observation's details (scene or why there is none, climate, land cover)."""
    lines = [f"**{place_label}** ({point_label}) — {month}", ""]
    if scene is not None:
        lines += [
            f"- Acquired: {scene.acquired.strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Scene: `{scene.scene_id}` ({scene.provider})",
            f"- Cloud cover over the footprint: {format_percent(scene.cloud_fraction)}",
        ]
        if scene.nodata_fraction > 0.005:
            lines.append(f"- No-data pixels: {format_percent(scene.nodata_fraction)}")
    else:
        lines.append(f"- No Sentinel-2 image: {scene_problem}")
    lines.append(f"- Climate this month (NASA POWER): {climate_line or 'not available'}")
    lines.append(f"- Land cover: {land_cover_line}")
    return "\n".join(lines)


def safe_filename(*parts: object) -> str:
    """File-name stem from parts: letters, digits, ".", "-", "_" and "+" (a change keeps its sign: t+2 vs t-2)."""
    joined = "_".join(str(p) for p in parts if p is not None and str(p) != "")
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "-", joined).strip("-_.+")
    return cleaned or "ecomapper"


def point_stem(lat: float, lon: float) -> str:
    """A file-name-safe rendering of a point, e.g. '24.8000N_11.4000W'."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{abs(lat):.4f}{ns}_{abs(lon):.4f}{ew}"


def scenario_stem(scenario) -> str:
    """A file-name part for a `Scenario`, e.g. 't+2_p-30' ('today' for none)."""
    if scenario.is_today:
        return "today"
    if scenario.kind == "projection":  # its change differs by month: name the SSP and horizon
        return f"{scenario.projection.ssp}_{scenario.projection.horizon}"
    change = scenario.change_for(None)
    return f"t{change.temp_delta_c:+g}_p{change.precip_change_pct:+g}"


def is_noise(model_id: str) -> bool:
    """The tiny random test model: its images are noise, and every label says so."""
    return model_id == TINY_MODEL_ID


def format_comparison(comparison) -> str:
    """Scenario vs today, then today and the scenario vs the real image, then how to read them.

    Metrics without weights on the server are named once at the end, without their long reasons.
    """
    versus = comparison.versus_today
    parts = [
        f"scenario vs today: SSIM **{format_number(versus.get('ssim'), 3)}**, PSNR "
        f"{format_number(versus.get('psnr'), 1, 'dB')}"
    ]
    missing: list[str] = []
    for name in ("today", "scenario"):
        shown = comparison.metrics.get(name) or {}
        numbers = []
        for label, value in shown.items():
            short = label.split(" (")[0]
            if isinstance(value, (int, float)):
                numbers.append(f"{short} {format_number(value, 1 if 'PSNR' in short else 3)}")
            elif short not in missing:
                missing.append(short)
        if numbers:
            parts.append(f"{name} vs real: " + ", ".join(numbers))
    if comparison.real is None:
        parts.append("no real image this month")
    if missing:
        parts.append(f"{', '.join(missing)}: weights not on this server")
    return " · ".join(parts) + f"\n\nHow to read: {comparison.how_to_read}"


def observed_png_name(point, month) -> str:
    """The file name of a month's real image at a point (written by Observe, overlaid after Generate)."""
    return f"{point_stem(point.lat, point.lon)}_{month}.png"
