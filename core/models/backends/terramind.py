"""TerraMind as an optional backend: Sentinel-2 L2A (12 bands), NDVI and a land-cover map from coordinates alone.

TerraMind 1.0 (IBM / ESA, Apache-2.0; Hub ibm-esa-geospatial/TerraMind-1.0-base and its tokenizers) is an
any-to-any model run through terratorch, an optional extra (`requirements-terramind.txt`): without it the
backend refuses in one line naming the install command. Facts read from terratorch 1.2.11
(`terramind_register.py`, `terramind_generation.py`, `tokenizer/text/text_tokenizer.py`):

- `terramind_v1_base_generate(modalities=["coords"], output_modalities=[...], standardize=True)`; the coordinate
  tokenizer reads a [B, 2] tensor of [lon, lat] and snaps it to a 0.25 degree grid; there is no date input.
- outputs are de-standardised with the pretraining mean / std: S2L2A in L2A digital numbers (12 bands, order
  B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B11 B12), NDVI as the index, LULC as per-class scores over ESRI's
  10 classes (index 0 = no data); 224 px at 10 m (2.24 km) when no image input fixes the size.
- `timesteps` is the tokenizers' diffusion decoding steps (terratorch's default 50); the token sampler draws
  its seed from Python's `random`, so a run is seeded by seeding `random` and torch first.

The conversion of those outputs into our files (`terramind_outputs`) is a plain function of arrays.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.config import Settings
from core.errors import ModelUnavailableError
from core.models.backends.base import BandMap, Bands, ProgressCallback
from core.models.backends.registry import optional_library_missing
from core.models.backends.sd_common import Drawn, SDPipelineBackend, device_and_dtype
from core.models.backends.terramind_hub import HUB_FILES, terramind_files

if TYPE_CHECKING:  # read, never built, here
    from core.generation.request import GenerationRequest
    from core.models.backends.registry import BackendInfo

# Sentinel-2 L2A band order of TerraMind's S2L2A modality (terratorch PRETRAINED_BANDS: coastal aerosol, blue,
# green, red, red edge 1-3, NIR broad, NIR narrow, water vapour, SWIR 1, SWIR 2); L2A has no B10 (cirrus).
S2L2A_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12")
S2_M_PER_PX = 10.0
# L2A digital number / 10000, as the product reads COP-GEN's bands; whether TerraMesh's L2A values carry the
# processing-baseline 04.00 offset (+1000) was not checked here, so none is removed
REFLECTANCE_PER_DN = 1e-4
# ESRI 10 m land cover as TerraMind's LULC tokenizer orders it (its model card: nine classes and no data).
LULC_CLASSES = ("No data", "Water", "Trees", "Flooded vegetation", "Crops", "Built area", "Bare ground",
                "Snow/ice", "Clouds", "Rangeland")  # fmt: skip
COORD_GRID_DEG = 0.25  # the coordinate tokenizer rounds lon / lat to this grid
PREVIEW_MAX_REFLECTANCE = 0.3  # as COP-GEN's preview: reflectance 0..0.3 shown as 0..255
OUTPUT_MODALITIES = ("S2L2A", "NDVI", "LULC")
# terratorch's tokenizer keys (`model.tokenizer[...]`) for the image tokenizer files above
TOKENIZER_KEYS = {"S2L2A": "tok_sen2l2a@224", "NDVI": "tok_ndvi@224", "LULC": "tok_lulc@224"}
MAE_PREFIX = "sampler.model."  # where terratorch's generation model keeps the pretrained network

logger = logging.getLogger(__name__)


def coords_input(lat: float, lon: float) -> np.ndarray:
    """The coordinate input TerraMind reads: [[lon, lat]] (float32, 1 x 2)."""
    return np.array([[lon, lat]], np.float32)


def snapped(value_deg: float) -> float:
    """A coordinate on TerraMind's 0.25 degree grid (what its tokenizer actually sees)."""
    return round(value_deg / COORD_GRID_DEG) * COORD_GRID_DEG


@dataclass(frozen=True)
class TerraMindOutput:
    """TerraMind's outputs as our result parts: the RGB preview and the bands with their maps."""

    image: np.ndarray
    bands: Bands


def _one_image(array: Any, name: str, channels: int | None) -> np.ndarray:
    """One sample's C x H x W (a leading batch of 1 dropped; a 2-D map read as one channel)."""
    out = np.asarray(array, np.float32)
    if out.ndim == 4:
        if out.shape[0] != 1:
            raise ValueError(f"{name}: expected one sample, got a batch of {out.shape[0]}")
        out = out[0]
    if out.ndim == 2:
        out = out[None]
    if out.ndim != 3 or (channels is not None and out.shape[0] != channels):
        raise ValueError(f"{name}: expected {channels or 'C'} x H x W, got shape {np.shape(array)}")
    return out


def terramind_outputs(s2l2a_dn: Any, ndvi: Any = None, lulc: Any = None) -> TerraMindOutput:
    """TerraMind's de-standardised outputs (numpy arrays, batch of 1 or none) as an RGB preview and `Bands`.

    Args:
        s2l2a_dn: 12 x H x W Sentinel-2 L2A digital numbers in `S2L2A_BANDS` order.
        ndvi: TerraMind's own NDVI, 1 x H x W or H x W (kept as the map "tm_ndvi", clipped to -1..1), or None.
        lulc: per-class scores 10 x H x W (the arg-max is the class) or class indices H x W, or None.

    Returns:
        The preview (B04 B03 B02 reflectance 0..0.3 as 0..255), and the 12 bands as reflectance with the maps.

    Raises:
        ValueError: a shape that is not TerraMind's.
    """
    dn = _one_image(s2l2a_dn, "S2L2A", len(S2L2A_BANDS))
    reflectance = np.clip(dn * REFLECTANCE_PER_DN, 0.0, None).astype(np.float32)
    arrays = dict(zip(S2L2A_BANDS, reflectance, strict=True))
    maps: dict[str, BandMap] = {}
    if ndvi is not None:
        index = _one_image(ndvi, "NDVI", 1)[0]
        maps["tm_ndvi"] = BandMap(np.clip(index, -1.0, 1.0).astype(np.float32), "NDVI (TerraMind's own output)")
    if lulc is not None:
        scores = _one_image(lulc, "LULC", None)
        if scores.shape[0] == 1:
            classes = np.rint(scores[0])
        elif scores.shape[0] == len(LULC_CLASSES):
            classes = scores.argmax(axis=0)
        else:
            raise ValueError(f"LULC: expected {len(LULC_CLASSES)} class scores or one class map, got {scores.shape}")
        maps["land_cover"] = BandMap(np.clip(classes, 0, len(LULC_CLASSES) - 1).astype(np.float32), "class index",
                                     LULC_CLASSES)  # fmt: skip
    rgb = np.stack([arrays[b] for b in ("B04", "B03", "B02")], axis=-1) / PREVIEW_MAX_REFLECTANCE
    image = (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    return TerraMindOutput(image, Bands(arrays, S2_M_PER_PX, maps=maps))


def land_cover_shares(classes: np.ndarray) -> dict[str, float]:
    """Share of each generated land-cover class (names as `LULC_CLASSES`), largest first, 0 shares left out."""
    counts = np.bincount(classes.astype(np.int64).ravel(), minlength=len(LULC_CLASSES))
    shares = {LULC_CLASSES[i]: round(float(c) / classes.size, 4) for i, c in enumerate(counts) if c}
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


class TerraMindBackend(SDPipelineBackend):
    """TerraMind (through terratorch): 12 Sentinel-2 L2A bands, NDVI and land cover from the point's lon / lat.

    `pipe` is terratorch's generation model; the shared `generate` adds the noise warning of random weights,
    what the request asked for that TerraMind ignores, and the weights' origin.
    """

    def draw(
        self, request: GenerationRequest, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> Drawn:
        import torch

        from core.errors import CancelledError

        steps = request.num_inference_steps or self.info.default_steps
        if progress is not None:
            progress(0, steps, f"{self.backend_id}: sampling tokens, then {steps} decoding steps")
        device = next(self.pipe.parameters()).device
        coords = torch.from_numpy(coords_input(request.point.lat, request.point.lon)).to(device)
        # the token sampler seeds itself from Python's `random` and the decoders draw from torch: seed both
        with self._lock, torch.inference_mode():
            random.seed(request.seed)
            torch.manual_seed(request.seed)
            out = self.pipe({"coords": coords}, timesteps=steps)
        if cancel is not None and cancel.is_set():
            raise CancelledError(f"{self.backend_id}: cancelled.", "Start it again when ready.")
        if progress is not None:
            progress(steps, steps, f"{self.backend_id}: done")
        made = terramind_outputs(*(_numpy(out.get(name)) for name in OUTPUT_MODALITIES))
        conditioning = {
            "coords_lon_lat": [snapped(request.point.lon), snapped(request.point.lat)],
            "coords_grid_deg": COORD_GRID_DEG,
            "outputs": list(OUTPUT_MODALITIES),
            "bands": list(made.bands.names),
            "decoding_steps": steps,
            "preview": f"B04/B03/B02 reflectance 0..{PREVIEW_MAX_REFLECTANCE:g} as 0..255",
        }
        if "land_cover" in made.bands.maps:
            conditioning["land_cover_shares"] = land_cover_shares(made.bands.maps["land_cover"].array)
        size = made.bands.size_px
        warnings = (
            f"TerraMind draws {size} px at {S2_M_PER_PX:g} m ({size * S2_M_PER_PX / 1000:g} km) from the "
            f"coordinates alone (snapped to {COORD_GRID_DEG} degrees), not the 5.12 km footprint; it reads no "
            "month, land cover or climate.",
        )
        return Drawn(made.image, "", conditioning, warnings=warnings, bands=made.bands)


def _numpy(value: Any) -> np.ndarray | None:
    return None if value is None else value.detach().float().cpu().numpy()


def build_terramind_model(model_name: str, *, pretrained: bool = False):
    """terratorch's TerraMind generator for coordinates -> S2L2A, NDVI, LULC (random weights unless `pretrained`).

    Raises:
        ModelUnavailableError: terratorch is not installed (the line names the install command).
    """
    missing = optional_library_missing("terramind")
    if missing:
        raise missing
    from terratorch.registry import FULL_MODEL_REGISTRY

    return FULL_MODEL_REGISTRY.build(model_name, modalities=["coords"], output_modalities=list(OUTPUT_MODALITIES),
                                     pretrained=pretrained, standardize=True).eval()  # fmt: skip


def load_pretrained_files(model: Any, files: dict[str, Path]) -> Any:
    """The published weights into terratorch's generator: the network under `MAE_PREFIX`, each tokenizer strictly.

    Raises:
        ModelUnavailableError: a file does not fit the network terratorch built (another terratorch version).
    """
    import torch

    network = torch.load(files[HUB_FILES[0][0]], map_location="cpu", weights_only=True)
    own = model.state_dict()
    mapped = {MAE_PREFIX + key: value for key, value in network.items() if MAE_PREFIX + key in own}
    expected = [key for key in own if key.startswith(MAE_PREFIX)]
    missing = [key for key in expected if key not in mapped]
    wrong = [key for key, value in mapped.items() if value.shape != own[key].shape]
    if wrong or not mapped:
        raise ModelUnavailableError(
            f"TerraMind_v1_base.pt does not fit terratorch's network: {len(mapped)} tensors match by name, "
            f"{len(wrong)} of them mis-shaped (e.g. {(wrong or expected)[0]}).",
            "Install the terratorch of requirements-terramind.txt and download the weights again.",
        )
    if missing:  # terratorch itself keeps its random initialisation there and warns; so do we, loudly
        logger.warning("TerraMind: %d network tensors are not in the published file (e.g. %s): left random.",
                       len(missing), missing[0])  # fmt: skip
    model.load_state_dict(mapped, strict=False)
    for (repo, _), key in zip(HUB_FILES[1:4], TOKENIZER_KEYS.values(), strict=True):
        state = torch.load(files[repo], map_location="cpu", weights_only=True)
        model.tokenizer[key].load_state_dict(state, strict=True)
    from terratorch.models.backbones.terramind.tokenizer.text.text_tokenizer import CoordsTokenizer

    model.tokenizer["coords"] = CoordsTokenizer(str(files[HUB_FILES[4][0]]))
    return model


def load_terramind(info: BackendInfo, settings: Settings, hf_cache_dir=None) -> TerraMindBackend:
    """TerraMind from the Hugging Face cache (never downloads here: `python -m core download --model terramind`).

    Raises:
        ModelUnavailableError: terratorch is missing (one line with the install command) or the weights are.
    """
    missing = optional_library_missing("terramind")
    if missing:
        raise missing
    files = terramind_files(settings, hf_cache_dir)
    model = load_pretrained_files(build_terramind_model(info.options["terratorch_model"]), files)
    device, _ = device_and_dtype(settings)  # float32: the tokenizers' diffusion decoders as published
    return TerraMindBackend(info, model.to(device), origin=str(files[HUB_FILES[0][0]].parent))
