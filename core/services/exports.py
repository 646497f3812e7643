"""Files of a generated image: PNG with metadata, GeoTIFF with tags, recipe JSON, and the visible label.

The same writers serve the CLI and the app, so both record the same provenance (observed climate,
scenario, final climate, model, seed, mode, control month) under the same names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.config import Settings
from core.errors import BadRequestError
from core.export.image_files import (
    footprint_georeference,
    ndvi,
    read_recipe,
    read_recipe_model,
    result_geotiff_tags,
    result_metadata,
    write_bands_geotiff,
    write_geotiff,
    write_png,
    write_recipe,
)
from core.export.timelapse import label_image
from core.geo import Month, Point
from core.io.safe_names import to_safe_name

__all__ = [
    "ExportedFiles",
    "export_image",
    "export_scene",
    "export_stem",
    "labelled_image",
    "read_recipe",
    "read_recipe_model",
    "recipe_request",
]


@dataclass(frozen=True)
class ExportedFiles:
    """Where the files of one image were written (None: not asked for)."""

    png: Path
    recipe: Path | None = None
    geotiff: Path | None = None
    meta: Path | None = None
    # content credentials: what was signed, or why nothing was (core.export.credentials)
    credentials: str = ""
    ndvi: Path | None = None
    # the generator's other maps on its bands' grid, by name (TerraMind: "tm_ndvi", "land_cover")
    maps: dict[str, Path] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        paths = {"png": self.png, "recipe": self.recipe, "geotiff": self.geotiff, "meta": self.meta, "ndvi": self.ndvi,
                 **self.maps}  # fmt: skip
        return {name: str(path) for name, path in paths.items() if path is not None}


def _generation_result(result: Any) -> Any:
    """A `GenerationResult` from a service `GenerateResult` or itself."""
    return getattr(result, "result", result)


def labelled_image(result: Any) -> np.ndarray:
    """The image with its "AI-generated · place · month · scenario" band underneath."""
    from core.export.provenance import Provenance

    inner = _generation_result(result)
    return label_image(inner.image, Provenance.of(inner).label)


def export_image(
    result: Any,
    png: str | os.PathLike,
    *,
    recipe: str | os.PathLike | None = None,
    geotiff: str | os.PathLike | None = None,
    labelled: bool = False,
    settings: Settings | None = None,
) -> ExportedFiles:
    """Write a generated image and its provenance.

    Args:
        result: a `GenerateResult` (service) or `GenerationResult`.
        png: the PNG (its text chunks carry the label, prompts, climates, scenario, model and recipe).
        recipe: the recipe JSON to write (None: none).
        geotiff: a GeoTIFF on the footprint's UTM grid with the same facts as tags (None: none). A result with
            bands (COP-GEN) always gets one: its bands as float32 reflectance (default: PNG stem + ".bands.tif"),
            plus NDVI beside it ("<stem>.ndvi.tif") when it has B04 and B08.
        labelled: draw the label band under the PNG's pixels (the GeoTIFF stays unlabelled: it is data).
        settings: with a C2PA key and certificate configured, the PNG and GeoTIFF get signed content
            credentials holding the recipe; `ExportedFiles.credentials` says what was done or why not.
    """
    inner = _generation_result(result)
    target = Path(png)
    if target.suffix.lower() != ".png":
        raise BadRequestError(f"{target.name!r} is not a .png file.", "Name the image *.png.")
    image = labelled_image(inner) if labelled else inner.image
    written_png = write_png(image, target, result_metadata(inner))
    written_recipe = write_recipe(inner.request, recipe, inner.model_info) if recipe is not None else None
    bands = getattr(inner, "bands", None)
    if bands is not None:
        tif_path = Path(geotiff) if geotiff is not None else target.with_suffix(".bands.tif")
        tif, ndvi_tif, maps = _write_bands(inner, tif_path)
        # band GeoTIFFs are generated images too: they carry the same content credentials
        signed = [written_png, tif] + ([ndvi_tif] if ndvi_tif else []) + list(maps.values())
        note = _credentials(inner, signed, settings)
        return ExportedFiles(png=written_png, recipe=written_recipe, geotiff=tif, ndvi=ndvi_tif, credentials=note,
                             maps=maps)  # fmt: skip
    written_tif = None
    if geotiff is not None:
        crs, transform = footprint_georeference(inner.request.point, inner.image.shape[0])
        written_tif = write_geotiff(inner.image, geotiff, crs, transform, tags=result_geotiff_tags(inner))
    note = _credentials(inner, [written_png] + ([written_tif] if written_tif else []), settings)
    return ExportedFiles(png=written_png, recipe=written_recipe, geotiff=written_tif, credentials=note)


def write_ndvi_preview(result: Any, path: str | os.PathLike) -> Path | None:
    """The NDVI of a result with red and near-infrared bands (COP-GEN) as a map with a legend; None without them."""
    from core.export.change_maps import write_ndvi_map
    from core.export.image_files import ndvi
    from core.export.provenance import Provenance

    inner = _generation_result(result)
    bands = getattr(inner, "bands", None)
    if bands is None or not {"B04", "B08"} <= set(bands.names):
        return None
    title = f"{Provenance.of(inner).label}\nNDVI from generated B04 (red) and B08 (near-infrared)"
    return write_ndvi_map(ndvi(bands.arrays), path, title=title)


def verify_image(path: str | os.PathLike) -> dict[str, Any]:
    """What an exported file claims: its C2PA manifest (validation state, signer, actions, recipe), or none."""
    from core.export.credentials import read_credentials

    return read_credentials(path)


def _credentials(inner: Any, files: list[Path], settings: Settings | None) -> str:
    """Sign each file's content credentials (the recipe) when a key is configured; the note says which or why not."""
    from core.export.credentials import attach_credentials
    from core.export.image_files import recipe_dict
    from core.export.provenance import Provenance

    if settings is None:
        return "no content credentials: exported without settings (no signing key to read)"
    recipe, label = recipe_dict(inner.request, inner.model_info), Provenance.of(inner).label
    notes = {attach_credentials(path, recipe, label, settings).note for path in files}
    return "; ".join(sorted(notes))


def _write_bands(inner: Any, tif: Path) -> tuple[Path, Path | None, dict[str, Path]]:
    """A result's bands as a float32 GeoTIFF at the generator's ground size, NDVI beside it when it can, and each
    of its other maps (TerraMind: its own NDVI, its land-cover map) as `<stem>.<name>.tif` on the same grid."""
    bands = inner.bands
    tags = {**result_geotiff_tags(inner), "unit": bands.unit, "m_per_px": f"{bands.m_per_px:g}"}
    source = (inner.model_info or {}).get("conditioning", {}).get("source_scene")
    if source:  # img2img from a real scene (COP-GEN): which scene and date it started from
        tags.update(source_scene=source["scene_id"], source_acquired=source["acquired"], strength=source["strength"])
    point = inner.request.point
    written = write_bands_geotiff(bands.arrays, tif, point, bands.m_per_px, tags=tags)
    stem = tif.name.removesuffix(tif.suffix).removesuffix(".bands")
    maps = {}
    for name, layer in bands.maps.items():
        map_tags = {**tags, "unit": layer.unit}
        if layer.classes:  # a class map: the value -> name table travels with the file
            map_tags["classes"] = "; ".join(f"{index}={label}" for index, label in enumerate(layer.classes))
        maps[name] = write_bands_geotiff({name: layer.array}, tif.with_name(f"{stem}.{name}.tif"), point,
                                         bands.m_per_px, map_tags)  # fmt: skip
    if not {"B04", "B08"} <= set(bands.arrays):
        return written, None, maps
    ndvi_tags = {**tags, "unit": "NDVI = (B08 - B04) / (B08 + B04)"}
    ndvi_path = write_bands_geotiff({"NDVI": ndvi(bands.arrays)}, tif.with_name(f"{stem}.ndvi.tif"), point,
                                    bands.m_per_px, ndvi_tags)  # fmt: skip
    return written, ndvi_path, maps


def export_stem(point: Point, month: Month, seed: int, mode: str, scenario: Scenario | None = None) -> str:
    """A file-name stem, e.g. '24.8000N_11.4000W_2020-02_seed0_text_plus3C_minus30pct'.

    Made safe by `core.io.safe_names` (the mode is free text): never a separator or "..".
    """
    ns = "N" if point.lat >= 0 else "S"
    ew = "E" if point.lon >= 0 else "W"
    parts = [f"{abs(point.lat):.4f}{ns}_{abs(point.lon):.4f}{ew}", str(month), f"seed{seed}", mode]
    if scenario is not None and not scenario.is_today:
        change = scenario.change_for(month)
        for value, unit in ((change.temp_delta_c, "C"), (change.precip_change_pct, "pct"),
                            (change.solar_delta_mj_m2_day, "MJ")):  # fmt: skip
            if value:
                parts.append(f"{'plus' if value > 0 else 'minus'}{abs(value):g}{unit}")
    return to_safe_name("_".join(parts), "export name")


def recipe_request(path: str | os.PathLike, model: Any = None):
    """A service `GenerationRequest` from a recipe: the recipe's model unless `model` (a ModelSpec) is given.

    Raises:
        BadRequestError: the recipe is unreadable, or names no model and none is given.
    """
    request = read_recipe(path)
    spec = model if model is not None else read_recipe_model(path)
    if spec is None:
        raise BadRequestError(f"The recipe {path} does not name its model.", "Give the model (--model).")
    return request.replace(model=spec)


def scene_geotiff_tags(scene: Any) -> dict[str, str]:
    """GeoTIFF tags of a real scene: what it is (not AI-generated), its id, date, cloud cover and source."""
    meta = scene.to_metadata()
    description = f"Sentinel-2 L2A true colour (real) · {meta['scene_id']} · {meta['acquired']}"
    tags = {"TIFFTAG_SOFTWARE": "EcoMapper Studio", "TIFFTAG_IMAGEDESCRIPTION": description, "ai_generated": "false"}
    for key, value in meta.items():
        if value is not None:
            tags[key] = value if isinstance(value, str) else json.dumps(value, default=str)
    return tags


def export_scene(
    scene: Any,
    png: str | os.PathLike,
    *,
    meta: str | os.PathLike | None = None,
    geotiff: str | os.PathLike | None = None,
) -> ExportedFiles:
    """Write a real scene: the PNG, optionally its metadata JSON and a GeoTIFF in the scene's own grid with tags."""
    from core.io.files import atomic_write_bytes, atomic_write_json
    from core.sources.imagery import encode_png

    written_png = atomic_write_bytes(png, encode_png(scene.image))
    written_meta = atomic_write_json(meta, scene.to_metadata()) if meta is not None else None
    written_tif = None
    if geotiff is not None:
        written_tif = write_geotiff(scene.image, geotiff, scene.crs, scene.transform, tags=scene_geotiff_tags(scene))
    return ExportedFiles(png=Path(written_png), meta=written_meta, geotiff=written_tif)


def read_rgb_image(path: str | os.PathLike, what: str = "image") -> np.ndarray:
    """An image file a user gives (a real image to compare with, a control image) as uint8 H x W x 3.

    Raises:
        BadRequestError: missing, unreadable, or too many pixels (refused from its header).
    """
    from core.io.images import read_rgb

    return read_rgb(path, what)


def write_real_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """A real (not generated) image as a plain PNG, written atomically."""
    from core.io.files import atomic_write_bytes
    from core.sources.imagery import encode_png

    return atomic_write_bytes(Path(path), encode_png(image))
