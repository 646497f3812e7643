"""The GPU self-check: every mode and known ControlNet once on one real place, or what is missing.

A service: it drives the generation engine (core.generation) with a model from the cache; what
touches torch (what is missing, versions, the timing of a run) is in `core.models.selfcheck`.

On a machine with a CUDA GPU and the weights it loads the base once (`ModelCache`), then runs
text-to-image, image-to-image from the real Sentinel-2 image, inpainting of a square and each
known ControlNet of that base at 512 px, and records seconds per step, peak GPU memory, dtype and
library versions. Without a GPU or weights it lists exactly what is missing and how to get it.
`--model tiny-random --device cpu` runs the same path on a CPU in seconds (its images are noise).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import ModelUnavailableError
from core.geo import Month, Point
from core.models.selfcheck import Missing, find_missing, library_versions, timed_run

__all__ = [
    "SELFCHECK_MONTH",
    "SELFCHECK_POINT",
    "GpuOptionRow",
    "Missing",
    "ModeRun",
    "SelfcheckReport",
    "contact_sheet",
    "find_missing",
    "gpu_options_report",
    "gpu_options_table",
    "run_selfcheck",
    "square_mask",
]

log = logging.getLogger(__name__)

# The place of the real Sentinel-2 fixture scene S2A_29RKH_20200219 (Western Sahara, February 2020).
SELFCHECK_POINT = Point(24.8, -11.4)
SELFCHECK_MONTH = Month(2020, 2)
SELFCHECK_LAND_COVER = "Barren or Sparsely Vegetated"
# A fixed plausible climate, so the check does not depend on NASA POWER being reachable.
SELFCHECK_CLIMATE = ClimateValues(temp_c=19.0, precip_mm_day=0.1, solar_mj_m2_day=17.0)
DEFAULT_STEPS = 28
THUMB_PX = 256
LABEL_PX = 22


@dataclass
class ModeRun:
    """One mode's run: label, image, seconds, seconds per step, peak GPU memory (bytes, None on CPU)."""

    label: str
    image: np.ndarray
    seconds: float
    steps: int
    peak_gpu_bytes: int | None

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(1, self.steps)


@dataclass
class SelfcheckReport:
    model_id: str
    device: str
    dtype: str
    size_px: int
    real_image: np.ndarray
    runs: list[ModeRun] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    load_counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "device": self.device,
            "dtype": self.dtype,
            "size_px": self.size_px,
            "place": {"lat": SELFCHECK_POINT.lat, "lon": SELFCHECK_POINT.lon, "month": str(SELFCHECK_MONTH)},
            "runs": [
                {
                    "mode": run.label,
                    "seconds": round(run.seconds, 3),
                    "steps": run.steps,
                    "seconds_per_step": round(run.seconds_per_step, 4),
                    "peak_gpu_gib": None if run.peak_gpu_bytes is None else round(run.peak_gpu_bytes / 1024**3, 2),
                }
                for run in self.runs
            ],
            "versions": self.versions,
            "load_counts": self.load_counts,
            "notes": self.notes,
        }

    def table(self) -> str:
        lines = ["| mode | seconds | s/step | peak GPU GiB |", "|---|---|---|---|"]
        for run in self.runs:
            peak = "-" if run.peak_gpu_bytes is None else f"{run.peak_gpu_bytes / 1024**3:.2f}"
            lines.append(f"| {run.label} | {run.seconds:.1f} | {run.seconds_per_step:.3f} | {peak} |")
        return "\n".join(lines)


def square_mask(size_px: int) -> np.ndarray:
    """The central square of a quarter of the area: what the inpainting run repaints."""
    mask = np.zeros((size_px, size_px), bool)
    mask[size_px // 4 : 3 * size_px // 4, size_px // 4 : 3 * size_px // 4] = True
    return mask


def selfcheck_request(size_px: int, num_inference_steps: int):
    """Text-to-image at the self-check place and month under its fixed climate."""
    from core.generation.request import GenerationRequest

    return GenerationRequest(
        point=SELFCHECK_POINT,
        month=SELFCHECK_MONTH,
        land_cover=SELFCHECK_LAND_COVER,
        climate=SELFCHECK_CLIMATE,
        size_px=size_px,
        num_inference_steps=num_inference_steps,
    ).with_place()


def run_selfcheck(
    model_id: str,
    settings: Settings,
    *,
    device: str = "auto",
    dtype: str = "auto",
    size_px: int = 512,
    num_inference_steps: int = DEFAULT_STEPS,
    real_image: np.ndarray | None = None,
    progress=None,
) -> SelfcheckReport:
    """Run every mode and known ControlNet of `model_id` once on the self-check place."""
    from core.generation.gapfill import fill_clouds
    from core.generation.runs import fetch_control_image, generate_images
    from core.models.engine import Engine
    from core.models.loading import LOAD_COUNTS
    from core.models.model_cache import ModelCache
    from core.models.registry import CONTROLNETS, KNOWN_MODELS, TINY_MODEL_ID
    from core.models.spec import ModelSpec

    if real_image is None:
        real_image, _ = fetch_control_image(SELFCHECK_POINT, SELFCHECK_MONTH, size_px, settings)
    counts_before = dict(LOAD_COUNTS)
    cache = ModelCache(settings)
    base = KNOWN_MODELS.get(model_id)
    controlnets = [c.controlnet_id for c in CONTROLNETS.values() if base is not None and c.base_model == model_id]
    if model_id == TINY_MODEL_ID:
        controlnets = [TINY_MODEL_ID]
    loaded = cache.get(ModelSpec(model_id, device=device, dtype=dtype))
    engine = Engine(loaded)
    cuda = str(loaded.device).startswith("cuda")
    request = selfcheck_request(size_px, num_inference_steps)
    report = SelfcheckReport(
        model_id,
        str(loaded.device),
        str(loaded.dtype).replace("torch.", ""),
        size_px,
        real_image,
        versions=library_versions(),
    )
    if loaded.is_tiny:
        report.notes.append("tiny-random is a random test model: its images are noise; the run checks the code path")

    def timed(label: str, steps: int, make) -> None:
        image, seconds, peak = timed_run(make, cuda)
        if loaded.is_tiny:
            label = f"{label} [noise]"
        report.runs.append(ModeRun(label, image, seconds, steps, peak))
        if progress is not None:
            progress(len(report.runs), 3 + len(controlnets), label)

    steps = num_inference_steps
    timed("text", steps, lambda: generate_images(request, engine, settings).image)
    img2img = request.replace(mode="img2img", control_image=real_image, strength=0.6)
    timed("img2img 0.6", max(1, int(steps * 0.6)), lambda: generate_images(img2img, engine, settings).image)
    if loaded.pipe.transformer.config.in_channels in (16, 33):
        timed(
            "inpaint (centre square)",
            steps,
            lambda: fill_clouds(real_image, square_mask(size_px), engine, request.prompts(), num_inference_steps=steps),
        )
    else:
        report.notes.append("inpainting skipped: the model has 4 latent channels (SD3 inpainting needs 16)")
    for controlnet in controlnets:
        cache.get(ModelSpec(model_id, device=device, dtype=dtype, controlnet=controlnet))
        scale = loaded.controlnet_profile.conditioning_scale if loaded.controlnet_profile else 1.0
        conditioned = request.replace(mode="controlnet", control_image=real_image, controlnet_conditioning_scale=scale)
        timed(f"controlnet {controlnet}", steps, lambda r=conditioned: generate_images(r, engine, settings).image)
    report.load_counts = {k: LOAD_COUNTS[k] - counts_before.get(k, 0) for k in ("base", "controlnet", "lora")}
    return report


def contact_sheet(report: SelfcheckReport) -> np.ndarray:
    """real | each mode's output, as one labelled uint8 image (thumbnails of THUMB_PX)."""
    from PIL import Image, ImageDraw

    tiles = [("real Sentinel-2", report.real_image)] + [(run.label, run.image) for run in report.runs]
    sheet = Image.new("RGB", (THUMB_PX * len(tiles), THUMB_PX + LABEL_PX), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (label, image) in enumerate(tiles):
        thumb = Image.fromarray(image).resize((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS)
        sheet.paste(thumb, (index * THUMB_PX, LABEL_PX))
        draw.text((index * THUMB_PX + 4, 4), label, fill="black")
    return np.asarray(sheet)


@dataclass
class GpuOptionRow:
    """One GPU option in `selfcheck --gpu-options`: measured here, or why not, beside the computed estimate."""

    name: str
    flags: str
    seconds: float | None = None
    peak_gpu_bytes: int | None = None
    not_run: str = ""
    estimate: Any = None  # core.models.gpu_options.OptionEstimate, None for a model without known counts
    anchor: Any = None

    def as_dict(self) -> dict[str, Any]:
        estimate = self.estimate
        return {
            "option": self.name,
            "flags": self.flags,
            "measured": None
            if self.seconds is None
            else {"seconds": round(self.seconds, 3), "peak_gpu_gb": _gb(self.peak_gpu_bytes)},
            "not_run": self.not_run or None,
            "computed": None
            if estimate is None
            else {
                "model": estimate.model_id,
                "peak_gpu_gb": _gb(estimate.peak_gpu_bytes),
                "seconds_a100": None if estimate.seconds is None else round(estimate.seconds, 2),
                "seconds_how": estimate.seconds_how,
            },
            "hf_anchor": None
            if self.anchor is None
            else {"seconds": self.anchor.seconds, "peak_gb": self.anchor.peak_gb},
        }


def _gb(value: int | None) -> float | None:
    return None if value is None else round(value / 1000**3, 2)


def gpu_options_report(
    model_id: str, settings: Settings, *, device: str = "auto", dtype: str = "auto", size_px: int = 1024, progress=None
) -> list[GpuOptionRow]:
    """Every GPU option of `core.models.gpu_options`: time per image and peak GPU memory measured on the
    CUDA GPU found (weights present), else "not run here" and why; always the computed estimate."""
    from core.models.device import choose_device
    from core.models.gpu_options import GPU_OPTIONS, estimate_option
    from core.models.registry import KNOWN_MODELS

    known = KNOWN_MODELS.get(model_id) or KNOWN_MODELS["sd3-medium"]
    chosen = choose_device(device if device != "auto" else settings.device)
    why = "" if chosen.startswith("cuda") else f"no CUDA GPU here (device {chosen})"
    if not why:
        missing = find_missing(model_id, settings, device)
        why = f"{missing[0].what}: {missing[0].problem}" if missing else ""
    rows = []
    for index, option in enumerate(GPU_OPTIONS, start=1):
        row = GpuOptionRow(option.name, option.flags, anchor=option.anchor)
        if known.transformer_parameters is not None and option.offered_for(known.model_id):
            row.estimate = estimate_option(known, option, size_px)
        if not option.offered:
            row.not_run = f"not offered: {option.why_not}"
        elif not option.offered_for(model_id):
            row.not_run = f"not offered for {model_id} (only {', '.join(option.models)})"
        elif why:
            row.not_run = f"not run here: {why}"
        else:
            try:
                row.seconds, row.peak_gpu_bytes = _measure_option(option, model_id, settings, device, dtype, size_px)
            except ModelUnavailableError as err:  # a preview's own weights (LoRA file, Turbo model) not here
                row.not_run = f"not run here: {err}"
        rows.append(row)
        if progress is not None:
            progress(index, len(GPU_OPTIONS), option.name)
    return rows


def _measure_option(option, model_id: str, settings: Settings, device: str, dtype: str, size_px: int):
    """(seconds, peak GPU bytes) of one text-to-image run with the option (compile: after its warm-up)."""
    from core.generation.runs import generate_images
    from core.models.engine import Engine
    from core.models.model_cache import ModelCache
    from core.models.spec import ModelSpec

    cache = ModelCache(settings, max_bases=1)  # one option's weights on the GPU at a time
    # a distilled preview loads its own model instead of the chosen one
    spec = ModelSpec(option.model_id or model_id, device=device, dtype=dtype, **option.spec)
    engine = Engine(cache.get(spec))
    # a budget of one byte makes the engine tile the VAE (and not batch)
    engine.memory_budget_bytes = 1 if option.vae_tiling else None
    request = selfcheck_request(size_px, option.steps)
    if option.guidance_scale is not None:
        request = request.replace(guidance_scale=option.guidance_scale)
    if option.compiled:
        engine.compile()
        generate_images(request, engine, settings)  # the warm-up pays the compilation
    _, seconds, peak = timed_run(lambda: generate_images(request, engine, settings).image, True)
    return seconds, peak


def gpu_options_table(rows: list[GpuOptionRow]) -> str:
    """Markdown: option, flags, measured here (or why not), computed estimate, Hugging Face's anchor."""
    lines = [
        "| option | flags | measured here | computed peak GB | computed s (A100) | HF anchor |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        measured = row.not_run or f"{row.seconds:.2f} s, {row.peak_gpu_bytes / 1000**3:.1f} GB"
        estimate = row.estimate
        peak = "-" if estimate is None else f"{estimate.peak_gpu_bytes / 1000**3:.1f}"
        seconds = "-" if estimate is None or estimate.seconds is None else f"{estimate.seconds:.2f}"
        anchor = (
            "-"
            if row.anchor is None
            else f"{row.anchor.seconds} s" + (f" / {row.anchor.peak_gb} GB" if row.anchor.peak_gb is not None else "")
        )
        lines.append(f"| {row.name} | {row.flags or '-'} | {measured} | {peak} | {seconds} | {anchor} |")
    return "\n".join(lines)
