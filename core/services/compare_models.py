"""Side by side: the same place and month from every generator whose weights are here, next to the real image.

`compare_models` is the service the CLI (`python -m core compare-models`) and the app call; it
imports no torch at module level (backends load inside). Metrics come from the one `MetricSuite`
(SSIM, PSNR, and LPIPS / CLIP when their weights are here). `write_comparison_sheet` lays the
result out as one labelled PNG: the real image, then one column per backend with its metrics,
then the backends that are not available and how to get them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import EcoMapperError
from core.generation.progress import ProgressCallback
from core.generation.request import GenerationRequest
from core.generation.runs import generate_images
from core.services.models import load_engine

log = logging.getLogger(__name__)

CELL_PX = 256


@dataclass(frozen=True)
class ComparedImage:
    """One backend's image, its metrics against the real image, and what it ignored."""

    backend_id: str
    image: np.ndarray = field(repr=False)
    metrics: dict[str, float]
    prompt: str
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]
    seconds: float
    conditioning: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ModelComparison:
    """The side-by-side result.

    Attributes:
        request: the shared request (place, month, land cover, cloud, climate, seed, steps).
        real_image: the real Sentinel-2 image (uint8) or None, with `real_note` saying why not.
        images: one per backend that ran.
        unavailable: (backend id, how to get it) for backends whose weights are not here.
        failed: (backend id, message) for backends that were present but failed.
        attributions: credits to show (OpenStreetMap when a layout was used).
    """

    request: Any
    real_image: np.ndarray | None = field(repr=False)
    real_note: str
    images: list[ComparedImage]
    unavailable: list[tuple[str, str]]
    failed: list[tuple[str, str]]
    attributions: tuple[str, ...] = ()


def _resized(image: np.ndarray, size_px: int) -> np.ndarray:
    from PIL import Image

    if image.shape[:2] == (size_px, size_px):
        return image
    return np.asarray(Image.fromarray(image).resize((size_px, size_px), Image.Resampling.LANCZOS))


def spatial_prompt_of(request) -> str:
    """EcoMapper's spatial prompt for the request (what CLIP scores every backend's image against)."""
    from core.models.backends.sd_common import spatial_prompt  # the prompt the SD 1.x/2.x backends draw from

    return spatial_prompt(request)


def backend_choices(settings: Settings, tiny: bool = False) -> list[tuple[str, str, bool, str]]:
    """(id, description, available here, detail or how to get it) of every backend, for menus."""
    from core.models.backends.registry import BACKENDS, TINY_BACKENDS, check_available

    listing = TINY_BACKENDS if tiny else BACKENDS
    rows = []
    for backend_id, info in listing.items():
        status = check_available(backend_id, settings)
        rows.append((backend_id, info.description, status.available, status.detail))
    return rows


def layout_classes() -> tuple[str, ...]:
    """The object classes a box layout may name (AeroGen: DIOR-R's 20 classes)."""
    from core.models.backends.aerogen import DIOR_R_CLASSES

    return DIOR_R_CLASSES


def generator_catalog(settings: Settings, tiny: bool = False) -> list[dict[str, Any]]:
    """Every generator with what it reads, what it never reads, its licence status and whether it is here."""
    from core.models.backends.base import unread_inputs
    from core.models.backends.registry import (
        BACKENDS,
        BAND_FAMILIES,
        OPTIONAL_FAMILIES,
        TINY_BACKENDS,
        check_available,
        licence_of,
    )

    rows = []
    for backend_id, info in (TINY_BACKENDS if tiny else BACKENDS).items():
        rows.append({
            "id": backend_id, "description": info.description, "ignores": list(unread_inputs(info.uses)),
            "licence": licence_of(backend_id), "available": check_available(backend_id, settings).available,
            "layout": info.uses.layout, "bands": info.family in BAND_FAMILIES, "size_px": info.native_size_px,
            "redraws_real": info.uses.source_bands,
            # an optional extra's install command (TerraMind: terratorch), "" for the rest
            "needs": OPTIONAL_FAMILIES.get(info.family, ("", ""))[1],
        })  # fmt: skip
    return rows


def compare_models(
    request: GenerationRequest,
    settings: Settings,
    backend_ids: list[str],
    *,
    real_image: np.ndarray | None = None,
    fetch_real: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ModelComparison:
    """Generate `request` with each backend whose weights are present.

    Args:
        request: the one `GenerationRequest` (its model, size and mode are replaced per generator: each
            runs text-to-image at its native size; steps and guidance None take each one's defaults).
        settings: paths, device, endpoints.
        backend_ids: which backends to try, in sheet order.
        real_image: the real image of the place and month; None fetches the Sentinel-2 scene when `fetch_real`.
        progress: `progress(done, total, message)` per backend.
        cancel: stops between backends and steps.
    """
    from core.models.backends import backend_info, check_available, ignored_parts
    from core.models.spec import ModelSpec

    request = request.with_place(settings)  # once, so every backend and the CLIP prompt share the place names
    real_note = "given"
    if real_image is None and fetch_real:
        from core.sources.imagery import fetch_scene

        try:
            scene = fetch_scene(request.point, request.month, settings)
            real_image = scene.image
            real_note = f"Sentinel-2 {scene.scene_id}, {scene.acquired:%Y-%m-%d}"
        except EcoMapperError as err:
            real_note = f"no real image: {err.problem}"
            log.warning("%s", real_note)
    elif real_image is None:
        real_note = "real image not fetched"
    if real_image is not None and request.reference_image is None:
        request = request.replace(reference_image=real_image)

    from core.metrics.suite import MetricSuite

    suite = MetricSuite.for_pairs(settings) if real_image is not None else None
    prompt = spatial_prompt_of(request)
    images: list[ComparedImage] = []
    unavailable: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    attributions: set[str] = set()
    for done, backend_id in enumerate(backend_ids):
        info = backend_info(backend_id)
        availability = check_available(backend_id, settings)
        if not availability.available:
            unavailable.append((backend_id, availability.detail))
            continue
        if progress is not None:
            progress(done, len(backend_ids), f"{backend_id}: loading")
        try:
            generator = load_engine(ModelSpec(backend_id), settings)
            own = request.replace(model=ModelSpec(backend_id), size_px=info.native_size_px)
            result = generate_images(own, generator, settings, cancel=cancel)
        except EcoMapperError as err:
            if type(err).__name__ == "CancelledError":
                raise
            failed.append((backend_id, str(err)))
            log.warning("%s failed: %s", backend_id, err)
            continue
        conditioning = result.model_info.get("conditioning") or {"prompts": result.prompts.as_dict()}
        layout = conditioning.get("layout", {})
        if isinstance(layout, dict) and layout.get("attribution"):
            attributions.add(layout["attribution"])
        images.append(
            ComparedImage(
                backend_id=backend_id,
                image=result.image,
                metrics=_scores(suite, real_image, result.image, prompt),
                prompt=result.prompts.climate or result.prompts.spatial,
                ignored=tuple(result.model_info.get("ignored") or ignored_parts(own, info.uses)),
                warnings=_warnings_of(result, info),
                seconds=round(result.timings_s.get("total_s", 0.0), 2),
                conditioning=conditioning,
            )
        )
    if progress is not None:
        progress(len(backend_ids), len(backend_ids), "done")
    return ModelComparison(request, real_image, real_note, images, unavailable, failed, tuple(sorted(attributions)))


def _warnings_of(result: Any, info: Any) -> tuple[str, ...]:
    """The result's warnings; a tiny random generator says it makes noise."""
    noise = (f"{info.backend_id} has random weights: it produces noise.",) if info.is_tiny else ()
    if info.uses.reference:  # ZoomLDM: its metrics flatter it, the others draw without seeing the answer
        noise += (f"{info.backend_id} draws variations of this real image: its scores against it are not "
                  "comparable with the others'.",)  # fmt: skip
    return noise + tuple(w for w in result.warnings if w not in noise)


def _scores(suite, real: np.ndarray | None, fake: np.ndarray, prompt: str) -> dict[str, float]:
    if suite is None or real is None:
        return {}
    values, _ = suite.score(real, fake, prompt)
    return {name: round(float(value), 4) for name, value in values.items()}


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]


def render_sheet(comparison: ModelComparison, cell_px: int = CELL_PX) -> np.ndarray:
    """The comparison as one uint8 RGB image: a header, the columns with labels, the unavailable list."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default()
    chars = max(20, cell_px // 6)
    columns: list[tuple[str, np.ndarray | None, list[str]]] = [
        ("real", comparison.real_image, _wrap(comparison.real_note, chars))
    ]
    for item in comparison.images:
        lines = [f"{item.seconds:g} s"]
        if item.metrics:
            lines += _wrap("  ".join(f"{name.upper()} {value:.3g}" for name, value in item.metrics.items()), chars)
        for note in item.ignored:
            lines += _wrap(f"ignores {note}", chars)
        for note in item.warnings:
            lines += _wrap(note, chars)
        columns.append((item.backend_id, item.image, lines))
    label_rows = max(len(lines) for _, _, lines in columns) + 1
    line_px = 12
    req = comparison.request
    header = [
        f"{req.point.lat:.4f}, {req.point.lon:.4f}  {req.month}  {req.land_cover}  cloud {req.cloud_fraction:g}"
        + (
            f"  climate {req.climate.temp_c:.1f} °C, {req.climate.precip_mm_day:.2f} mm/day, "
            f"{req.climate.solar_mj_m2_day:.1f} MJ/m²/day"
            if req.climate is not None
            else ""
        )
        + (f"  scenario {req.scenario.label}" if req.has_scenario else "")
        + f"  seed {req.seed}",
    ]
    footer = [f"not available: {bid} - {how}" for bid, how in comparison.unavailable]
    footer += [f"failed: {bid} - {message}" for bid, message in comparison.failed]
    footer += [f"map data {credit}" for credit in comparison.attributions]
    width = len(columns) * (cell_px + 8) + 8
    footer_lines = [line for text in footer for line in _wrap(text, width // 6)]
    height = 8 + line_px * (len(header) + 1) + cell_px + line_px * label_rows + line_px * (len(footer_lines) + 1)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    y = 6
    for line in header:
        draw.text((8, y), line, fill="black", font=font)
        y += line_px
    y += line_px
    for i, (title, image, lines) in enumerate(columns):
        x = 8 + i * (cell_px + 8)
        if image is not None:
            sheet.paste(Image.fromarray(_resized(image, cell_px)), (x, y))
        else:
            draw.rectangle((x, y, x + cell_px - 1, y + cell_px - 1), outline="gray")
        ty = y + cell_px + 2
        draw.text((x, ty), title, fill="black", font=font)
        for line in lines:
            ty += line_px
            draw.text((x, ty), line, fill="dimgray", font=font)
    y += cell_px + line_px * label_rows + line_px
    for line in footer_lines:
        draw.text((8, y), line, fill="black", font=font)
        y += line_px
    return np.asarray(sheet)


def write_comparison_sheet(comparison: ModelComparison, path: str | Path, cell_px: int = CELL_PX) -> Path:
    """Write the sheet as one PNG (atomically)."""
    from PIL import Image

    from core.io.files import atomic_output
    from core.io.outputs import check_output_file

    path = check_output_file(path, "comparison sheet", (".png",))  # the bytes are PNG: so is the name
    with atomic_output(path) as tmp:
        Image.fromarray(render_sheet(comparison, cell_px)).save(tmp, format="PNG")
    return path
