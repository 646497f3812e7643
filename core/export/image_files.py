"""Saving generated images: PNG with embedded metadata, GeoTIFF on the footprint's grid, recipe JSON.

A recipe holds everything that decides the pixels (request, control image, model spec), so
`read_recipe` + `generate_images` on the same model and device gives the same image again.
Every file is written to a temporary sibling and renamed into place (core.io.files).
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.export.provenance import Provenance, climate_dict
from core.geo import Footprint, Month, Point
from core.io.files import atomic_output, atomic_write_bytes, atomic_write_json
from core.io.images import ImageTooLargeError

RECIPE_FORMAT = "ecomapper-studio/recipe"
# 2: the request keeps observed climate and scenario beside the final climate; 1 (final climate only)
# still reads, as observed = final and scenario = today.
RECIPE_VERSION = 2
READABLE_VERSIONS = (1, 2)
# Display precision of the request's numbers in a recipe (climate: core.climate.scenario.CLIMATE_DECIMALS).
GUIDANCE_DECIMALS = 3
FRACTION_DECIMALS = 4
# PNG text keys (tEXt for ASCII values, iTXt for the rest); "ecomapper" holds the full JSON.
PNG_METADATA_KEY = "ecomapper"


def _check_image(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise BadRequestError(
            f"Cannot save {type(image).__name__} {getattr(image, 'shape', '')} as an image.",
            "Pass a uint8 H x W x 3 RGB array.",
        )
    return image


def encode_png(image: np.ndarray, metadata: dict[str, Any] | None = None) -> bytes:
    """PNG bytes of an RGB image with `metadata` as text chunks (values JSON-encoded unless str)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (metadata or {}).items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        if text.isascii():
            info.add_text(str(key), text)
        else:
            info.add_itxt(str(key), text)  # UTF-8 (° and ² in captions, place names)
    buffer = io.BytesIO()
    Image.fromarray(_check_image(image)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def write_png(image: np.ndarray, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write a PNG whose text chunks carry `metadata` (prompt, seed, model, climate, ...)."""
    return atomic_write_bytes(path, encode_png(image, metadata))


def read_png_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The text chunks of a PNG (tEXt, zTXt and iTXt), as strings."""
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        return {str(k): str(v) for k, v in getattr(img, "text", {}).items()}


def result_metadata(result: Any) -> dict[str, Any]:
    """PNG metadata of a GenerationResult: the "AI-generated" label, prompts, seed, model, mode, control
    month, observed climate, scenario and final climate (`climate`), and the full recipe."""
    request = result.request
    provenance = Provenance.of(result)
    record = provenance.as_dict()
    return {
        "Software": "EcoMapper Studio",
        "ai_generated": "true",
        "label": provenance.label,
        "Description": provenance.label,
        "prompt": result.prompts.spatial,
        "climate_prompt": result.prompts.climate,
        "seed": str(result.seed),
        "model": result.model_id,
        "mode": request.mode,
        "control_month": record["control_month"] or "",
        "climate": record["final_climate"],
        "observed_climate": record["observed_climate"],
        "scenario": record["scenario"],
        "place": record["place"],
        "month": str(request.month),
        PNG_METADATA_KEY: recipe_dict(request, result.model_info),
        # e.g. "tiny-random ... produces noise", or "without T5 the climate prompt is not used"
        "warnings": list(result.warnings),
    }


def result_geotiff_tags(result: Any) -> dict[str, str]:
    """GeoTIFF tags of a GenerationResult (label, observed / scenario / final climate, model, seed, mode...)."""
    return Provenance.of(result).geotiff_tags()


def footprint_georeference(point: Point, size_px: int) -> tuple[str, Any]:
    """(CRS, Affine) of a size_px image covering the 5.12 km EcoMapper footprint around `point`."""
    footprint = Footprint.around(point)
    return footprint.crs, footprint.transform_at(size_px)


def write_geotiff(
    image: np.ndarray, path: str | os.PathLike, crs: str, transform: Any, tags: dict[str, str] | None = None
) -> Path:
    """Write an RGB GeoTIFF on the footprint's grid (CRS and affine transform of the real scene)."""
    import rasterio
    from rasterio.errors import CRSError

    image = _check_image(image)
    target = Path(path)
    profile = dict(
        driver="GTiff",
        width=image.shape[1],
        height=image.shape[0],
        count=3,
        dtype="uint8",
        crs=crs,
        transform=transform,
        photometric="RGB",
        compress="deflate",
        tiled=image.shape[0] % 16 == 0 and image.shape[1] % 16 == 0,
    )
    try:
        with atomic_output(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(np.moveaxis(image, 2, 0))
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
    except CRSError as err:
        raise BadRequestError(f"The CRS {crs!r} is not valid: {err}", "Give an EPSG code like 'EPSG:32629'.") from err
    return target


def ndvi(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """NDVI = (B08 - B04) / (B08 + B04) of reflectance bands; NaN where both are 0.

    Raises:
        BadRequestError: the bands lack B04 (red) or B08 (near-infrared).
    """
    missing = [name for name in ("B04", "B08") if name not in arrays]
    if missing:
        raise BadRequestError(
            f"NDVI needs the red (B04) and near-infrared (B08) bands; missing {', '.join(missing)}.",
            "Use a generator that makes near-infrared (COP-GEN).",
        )
    red = arrays["B04"].astype(np.float32)
    nir = arrays["B08"].astype(np.float32)
    total = nir + red
    out = np.full(red.shape, np.nan, np.float32)
    np.divide(nir - red, total, out=out, where=total != 0)
    return out


def write_bands_geotiff(
    arrays: dict[str, np.ndarray],
    path: str | os.PathLike,
    point: Point,
    m_per_px: float,
    tags: dict[str, str] | None = None,
) -> Path:
    """A float32 GeoTIFF, one band per entry of `arrays` (its name as the band description), on a
    `m_per_px` UTM grid centred on `point` (the generator's own ground size, not the 5.12 km footprint)."""
    import rasterio

    stack = np.stack([np.asarray(a, np.float32) for a in arrays.values()])
    size = stack.shape[1]
    footprint = Footprint.around(point, size_px=size, pixel_size_m=m_per_px)
    profile = dict(
        driver="GTiff",
        width=stack.shape[2],
        height=size,
        count=stack.shape[0],
        dtype="float32",
        crs=footprint.crs,
        transform=footprint.transform,
        nodata=float("nan"),
        compress="deflate",
    )
    target = Path(path)
    with atomic_output(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(stack)
        dst.descriptions = tuple(arrays)
        if tags:
            dst.update_tags(**{k: str(v) for k, v in tags.items()})
    return target


def _image_to_b64(image: np.ndarray | None) -> str | None:
    return None if image is None else base64.b64encode(encode_png(image)).decode("ascii")


def _image_from_b64(text: str | None) -> np.ndarray | None:
    if text is None:
        return None
    from core.io.images import read_rgb

    if not isinstance(text, str):
        raise ValueError(f"a {type(text).__name__}, not base64 text")
    # pixel-limited: a recipe cannot smuggle in a decompression bomb
    return read_rgb(base64.b64decode(text, validate=True), "recipe's control image")


def recipe_dict(request: Any, model: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-safe recipe of a request (and the model spec it ran on)."""
    return {
        "format": RECIPE_FORMAT,
        "version": RECIPE_VERSION,
        "request": {
            "lat": request.point.lat,
            "lon": request.point.lon,
            "month": str(request.month),
            "land_cover": request.land_cover,
            "cloud_fraction": round(request.cloud_fraction, FRACTION_DECIMALS),
            "observed_climate": climate_dict(request.observed_climate),
            "scenario": request.scenario.as_dict(),
            # the final climate the model was asked for (observed_climate under scenario, when both are set)
            "climate": climate_dict(request.climate),
            "seed": request.seed,
            "num_inference_steps": request.num_inference_steps,
            "guidance_scale": round(request.guidance_scale, GUIDANCE_DECIMALS),
            "size_px": request.size_px,
            "mode": request.mode,
            "control_month": str(request.control_month) if request.control_month else None,
            "controlnet_conditioning_scale": round(request.controlnet_conditioning_scale, GUIDANCE_DECIMALS),
            "state": request.state,
            "country": request.country,
            "word_mode": request.word_mode,
            "strength": getattr(request, "strength", None),  # img2img
            "edit": request.edit.as_dict(),  # edit / invert: FlowEdit's options (None = the documented default)
            # lossless copy of the control image, so the recipe does not depend on fetching it again
            "control_image_png_base64": _image_to_b64(request.control_image),
            "boxes": [box.as_dict() for box in getattr(request, "boxes", ())],  # AeroGen's layout
        },
        "prompts": request.prompts().as_dict() if request.country else None,
        "model": _model_part(model),
    }


def _model_part(model: dict[str, Any] | None) -> dict[str, Any] | None:
    if not model:
        return None
    keys = (
        "model_id",
        "lora",
        "lora_scale",
        "controlnet",
        "device",
        "dtype",
        "cpu_offload",
        "drop_t5",
        "control_range",
        "controlnet_pooled",
        "t5_quantization",  # quantised T5 weights change the pixels slightly
        "sequential_offload",
    )
    part = {k: model[k] for k in keys if k in model}
    if "ran_on" in model:
        part["ran_on"] = model["ran_on"]  # where the pixels were made (bit-exact only there)
    return part


def write_recipe(request: Any, path: str | os.PathLike, model: dict[str, Any] | None = None) -> Path:
    """Write the recipe JSON of a (resolved) GenerationRequest; `model` is `LoadedPipeline.describe()`."""
    return atomic_write_json(path, recipe_dict(request, model))


def _load_recipe_json(path: str | os.PathLike) -> dict[str, Any]:
    from core.io.inputs import check_input_file, parse_json, read_text
    from core.limits import MAX_RECIPE_BYTES

    size = check_input_file(path, "recipe").stat().st_size
    if size > MAX_RECIPE_BYTES:
        raise BadRequestError(
            f"The recipe {path} is {size / 1e6:.0f} MB, over the limit of {MAX_RECIPE_BYTES / 1e6:.0f} MB.",
            "Give a recipe written by us (they hold at most one 1024 px control image).",
        )
    data = parse_json(read_text(path, "recipe"), f"recipe {path}", "Give a recipe written by us.")
    if not isinstance(data, dict) or data.get("format") != RECIPE_FORMAT:
        raise BadRequestError(f"{path} is not an EcoMapper Studio recipe.", "Give a file written with --recipe-out.")
    if data.get("version") not in READABLE_VERSIONS:
        raise BadRequestError(
            f"The recipe {path} has version {data.get('version')!r}; this version reads {RECIPE_VERSION}.",
            "Regenerate it with this version of EcoMapper Studio.",
        )
    return data


def read_recipe_region(path: str | os.PathLike) -> dict[str, Any]:
    """The region part of a recipe written by `region` (area, method, per-tile naming, tiles).

    Raises:
        BadRequestError: the recipe is unreadable or is a single image's.
    """
    region = _load_recipe_json(path).get("region")
    if not isinstance(region, dict):
        raise BadRequestError(
            f"The recipe {path} is a single image's, not a region's (it has no 'region').",
            "Regenerate it with `generate --recipe`, or give a recipe written by `region`.",
        )
    return region


def read_recipe(path: str | os.PathLike):
    """The GenerationRequest stored in a recipe JSON (validated like any request)."""
    from core.generation.request import EditOptions, GenerationRequest, parse_boxes

    data = _load_recipe_json(path)
    fields = data.get("request")
    if not isinstance(fields, dict):
        raise BadRequestError(f"The recipe {path} has no request.", "Give a recipe written by us.")
    try:
        control_image = _image_from_b64(fields.get("control_image_png_base64"))
    except ImageTooLargeError as err:  # a decompression bomb, refused from its header
        raise ImageTooLargeError(f"The recipe {path}: {err.problem}", err.fix) from err
    except (ValueError, TypeError, OSError) as err:  # bad base64, or bytes that are not an image
        raise BadRequestError(
            f"The recipe {path} has a control image that is not a base64 PNG ({err}).",
            "Give a recipe written by us, or regenerate it.",
        ) from err
    try:
        climate = fields.get("climate")
        observed = fields.get("observed_climate")
        scenario = Scenario.from_dict(fields["scenario"]) if fields.get("scenario") else Scenario.today()
        return GenerationRequest(
            point=Point(fields["lat"], fields["lon"]),
            month=Month.parse(fields["month"]),
            land_cover=fields["land_cover"],
            cloud_fraction=fields["cloud_fraction"],
            # with an observed climate the final one is derived (and must match what was recorded)
            climate=None if climate is None else ClimateValues(**climate),
            observed_climate=None if observed is None else ClimateValues(**observed),
            scenario=scenario,
            seed=fields["seed"],
            num_inference_steps=fields["num_inference_steps"],
            guidance_scale=fields["guidance_scale"],
            size_px=fields["size_px"],
            mode=fields["mode"],
            control_image=control_image,
            control_month=Month.parse(fields["control_month"]) if fields.get("control_month") else None,
            controlnet_conditioning_scale=fields["controlnet_conditioning_scale"],
            state=fields.get("state"),
            country=fields.get("country") or "",
            word_mode=bool(fields.get("word_mode", False)),
            **({"strength": fields["strength"]} if fields.get("strength") is not None else {}),
            **({"edit": EditOptions.from_dict(fields["edit"])} if fields.get("edit") else {}),
            boxes=parse_boxes(fields.get("boxes") or []),
        )
    except BadRequestError as err:
        raise BadRequestError(f"The recipe {path}: {err.problem}", err.fix) from err
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise BadRequestError(f"The recipe {path} lacks or mangles {err}.", "Give a recipe written by us.") from err


def read_recipe_model(path: str | os.PathLike):
    """The ModelSpec a recipe was made with, or None if it does not say."""
    from core.models.spec import ModelSpec

    model = _load_recipe_json(path).get("model")
    if not model:
        return None
    if not isinstance(model, dict):
        raise BadRequestError(
            f"The recipe {path} has a model part that is a {type(model).__name__}, not an object.",
            'Write it as {"model_id": "..."} or pass --model.',
        )
    try:
        return ModelSpec(**{k: v for k, v in model.items() if k != "ran_on"})
    except (TypeError, ValueError) as err:
        raise BadRequestError(f"The recipe {path} has a malformed model part: {err}", "Edit or regenerate it.") from err
