"""The generator backends the product knows: what each reads, where its weights live, how to get them.

No torch import here: listing backends and checking which weights are on disk stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.models.backends.base import Uses

MAPSAT_PROMPT = "convert this openstreetmap into its satellite view"  # map-sat's fixed prompt (its README)
MAPSAT_ZOOM = 17  # map-sat: "trained on OSM tiles at zoom level 17"
# GeoSynth's paper pairs ~1 m/px satellite images with OSM tiles; zoom 17 (about 1.2 m/px at the
# equator) is the level used here. A setting could change it if their data card says otherwise.
GEOSYNTH_ZOOM = 17
# COP-GEN reads the land cover as a map and the point and date as numbers; no prompt, no climate.
COPGEN_USES = Uses(metadata=True, text=False, climate=False, land_cover=True, source_bands=True)
# ZoomLDM reads only the real image of the month (its DINOv2 features).
ZOOMLDM_USES = Uses(metadata=False, text=False, climate=False, reference=True)
# AeroGen reads the prompt and the request's box layout.
AEROGEN_USES = Uses(metadata=False, text=True, climate=False, layout=True)
# TerraMind reads only the point's lon/lat (snapped to 0.25 degrees by its coordinate tokenizer): no month, no text.
TERRAMIND_USES = Uses(metadata=True, text=False, climate=False, date=False)
# Families whose library is an optional extra (not in requirements.txt): family -> (import name, install command).
OPTIONAL_FAMILIES = {"terramind": ("terratorch", "pip install -r requirements-terramind.txt")}
# Families whose result carries Sentinel-2 bands (a band GeoTIFF, NDVI): the app shows their NDVI map.
BAND_FAMILIES = ("copgen", "terramind")


@dataclass(frozen=True)
class BackendInfo:
    """One backend id.

    Attributes:
        backend_id: the id users type (`--model`).
        family: "sd3", "diffusionsat", "geosynth", "map-sat", "text2earth", "copgen", "zoomldm", "aerogen" or
            "terramind" (optional: needs terratorch, `OPTIONAL_FAMILIES`).
        description: one line for listings.
        uses: what the family reads from a request.
        native_size_px: the size it was trained at (the side-by-side sheet generates at it).
        default_steps, default_guidance: its authors' inference defaults.
        weights: where its own weights come from (Hub ids or a download page).
        base_setting: the Settings field naming its base model mirror, or None.
        how_to_get: what a user runs or downloads to make it available.
        is_tiny: random weights built in code (produces noise).
        options: family specifics (ControlNet repo, layout zoom, metadata count, ...).
    """

    backend_id: str
    family: str
    description: str
    uses: Uses
    native_size_px: int
    default_steps: int
    default_guidance: float
    weights: tuple[str, ...] = ()
    base_setting: str | None = None
    how_to_get: str = ""
    is_tiny: bool = False
    options: dict = field(default_factory=dict)


_DS_TEXT = (
    "DiffusionSat ({px} px; SD 2.1 UNet + metadata embeddings; trained on fMoW / Satlas / SpaceNet at sub-metre "
    "to a few metres per pixel, finer than Sentinel-2's 10 m)"
)
_DS_HOW = (
    "Download the {px} px checkpoint zip from Zenodo (record {record}) or the Hub copy, unzip it to "
    "checkpoints/{bid}/ (a folder with unet/config.json); the SD 2.1 parts come from ECOMAPPER_SD21_REPO."
)

BACKENDS: dict[str, BackendInfo] = {
    info.backend_id: info
    for info in (
        BackendInfo(
            "sd3-medium",
            "sd3",
            "Stable Diffusion 3 Medium with EcoMapper's prompts (text; climate through T5)",
            Uses(metadata=False, text=True, climate=True, control=None),
            512,
            50,
            7.5,
            ("stabilityai/stable-diffusion-3-medium-diffusers",),
            how_to_get="python -m core download --model sd3-medium (gated: log in and accept the licence)",
        ),
        *(
            BackendInfo(
                f"diffusionsat-{px}",
                "diffusionsat",
                _DS_TEXT.format(px=px),
                Uses(metadata=True, text=True, climate=False),
                px,
                50,
                7.5,
                (f"zenodo.org/records/{record}",),
                "sd21_repo",
                _DS_HOW.format(px=px, record=record, bid=f"diffusionsat-{px}"),
                options={"num_metadata": 7},
            )
            for px, record in ((256, 13756199), (512, 13751498))
        ),
        BackendInfo(
            "diffusionsat-weather",
            "diffusionsat",
            "DiffusionSat with three weather scalars (temperature, precipitation, radiation), fine-tuned here",
            Uses(metadata=True, text=True, climate=True),
            256,
            50,
            7.5,
            ("trained with python -m core train",),
            "sd21_repo",
            "Fine-tune it with `python -m core train --config assets/presets/train_diffusionsat_weather_tiny.toml` "
            '(set init = "diffusionsat-256") and put the output at checkpoints/diffusionsat-weather/.',
            options={"num_metadata": 10},
        ),
        *(
            BackendInfo(
                f"geosynth-{kind}",
                "geosynth",
                f"GeoSynth-{label} (SD 2.1-base ControlNet on {what})",
                Uses(metadata=False, text=True, climate=False, control=kind),
                512,
                50,
                7.5,
                (f"MVRL/GeoSynth-{label}",),
                "sd21_base_repo",
                f"python -m core download --model geosynth-{kind} (ControlNet MVRL/GeoSynth-{label} plus the "
                "SD 2.1-base mirror in ECOMAPPER_SD21_BASE_REPO)",
                options={"controlnet_repo": f"MVRL/GeoSynth-{label}", "zoom": GEOSYNTH_ZOOM},
            )
            for kind, label, what in (
                ("osm", "OSM", "OpenStreetMap tiles"),
                ("canny", "Canny", "Canny edges of the real image"),
            )
        ),
        BackendInfo(
            "map-sat",
            "map-sat",
            "map-sat / controlearth (SD 1.5 ControlNet on OpenStreetMap tiles at zoom 17, fixed prompt; trained "
            "on Scotland)",
            Uses(metadata=False, text=False, climate=False, control="osm"),
            512,
            50,
            7.5,
            ("mespinosami/controlearth",),
            "sd15_repo",
            "python -m core download --model map-sat (ControlNet mespinosami/controlearth plus the SD 1.5 mirror in "
            "ECOMAPPER_SD15_REPO)",
            options={"controlnet_repo": "mespinosami/controlearth", "zoom": MAPSAT_ZOOM, "prompt": MAPSAT_PROMPT},
        ),
        BackendInfo(
            "text2earth",
            "text2earth",
            "Text2Earth (text, with a resolution prefix set from the footprint's ground size; trained on Git-10M)",
            Uses(metadata=False, text=True, climate=False),
            256,
            50,
            4.0,
            ("lcybuaa/Text2Earth",),
            how_to_get="python -m core download --model text2earth (Hub lcybuaa/Text2Earth, with its pipeline file)",
            options={"repo": "lcybuaa/Text2Earth"},
        ),
        BackendInfo(
            "copgen",
            "copgen",
            "COP-GEN base (Sentinel-2 L2A B04/B03/B02/B08 at 10 m, 192 px, from land cover, point and date; "
            "RGB preview + near-infrared for NDVI; code Apache-2.0, weights CC-BY-4.0)",
            COPGEN_USES,
            192,
            50,
            1.0,
            ("mespinosami/copgen-base", "mespinosami/copgen-vaes"),
            how_to_get="python -m core download --model copgen (Hub mespinosami/copgen-base, ~1.2 GB, and the "
            "LULC, cloud-mask and S2 L2A B04/B03/B02/B08 autoencoders of mespinosami/copgen-vaes, CC-BY-4.0) into "
            "checkpoints/copgen/",
            options={"repos": ("mespinosami/copgen-base", "mespinosami/copgen-vaes")},
        ),
        BackendInfo(
            "zoomldm",
            "zoomldm",
            "ZoomLDM NAIP (256 px variations of the real scene of the month from its DINOv2 features, zoom level 3; "
            "trained on ~1 m US aerial images; code MIT)",
            ZOOMLDM_USES,
            256,
            50,
            2.0,
            ("StonyBrook-CVLab/ZoomLDM", "facebook/dinov2-with-registers-large"),
            how_to_get="python -m core download --model zoomldm (naip/weights.ckpt of StonyBrook-CVLab/ZoomLDM, "
            "converted into checkpoints/zoomldm/, plus facebook/dinov2-with-registers-large, ~1.2 GB)",
            options={"repo": "StonyBrook-CVLab/ZoomLDM", "zoom_level": 3},
        ),
        BackendInfo(
            "aerogen",
            "aerogen",
            "AeroGen (SD 1.5 drawing DIOR-R objects inside a box layout, up to 20 rotated boxes; code and weights "
            "without a licence: your own download)",
            AEROGEN_USES,
            512,
            50,
            7.5,
            ("Sonetto702/AeroGen",),
            "sd15_repo",
            "AeroGen's weights (Hub Sonetto702/AeroGen, aerogen_diorr_last.ckpt, ~9.5 GB, no licence file: your own "
            "download, not redistributed) are an LDM checkpoint; put it in checkpoints/aerogen/ and the first run "
            "converts it into checkpoints/aerogen/unet/ and box_encoder.safetensors; the SD 1.5 parts come from "
            "ECOMAPPER_SD15_REPO",
        ),
        BackendInfo(
            "terramind",
            "terramind",
            "TerraMind 1.0 base (IBM/ESA; Sentinel-2 L2A, 12 bands at 10 m, 224 px, its own NDVI and a land-cover "
            "map from the point's coordinates alone; optional: needs terratorch; Apache-2.0)",
            TERRAMIND_USES,
            224,
            50,
            1.0,
            ("ibm-esa-geospatial/TerraMind-1.0-base",),
            how_to_get="pip install -r requirements-terramind.txt (terratorch, an optional extra), then python -m "
            "core download --model terramind (Hub ibm-esa-geospatial/TerraMind-1.0-base and its S2L2A, NDVI and "
            "LULC tokenizers, Apache-2.0) into the Hugging Face cache",
            options={"terratorch_model": "terramind_v1_base_generate"},
        ),
    )
}

# Tiny random variants of each family: the real code paths, random weights, noise out.
TINY_BACKENDS: dict[str, BackendInfo] = {
    info.backend_id: info
    for info in (
        BackendInfo("tiny-random", "sd3", "tiny random SD3 (noise)", BACKENDS["sd3-medium"].uses, 64, 2, 7.5,
                    is_tiny=True),
        BackendInfo("tiny-diffusionsat", "diffusionsat", "tiny random DiffusionSat (noise)",
                    BACKENDS["diffusionsat-256"].uses, 64, 2, 7.5, is_tiny=True, options={"num_metadata": 7}),
        BackendInfo("tiny-diffusionsat-weather", "diffusionsat", "tiny random weather DiffusionSat (noise)",
                    BACKENDS["diffusionsat-weather"].uses, 64, 2, 7.5, is_tiny=True, options={"num_metadata": 10}),
        BackendInfo("tiny-geosynth-osm", "geosynth", "tiny random GeoSynth-OSM (noise)",
                    BACKENDS["geosynth-osm"].uses, 64, 2, 7.5, is_tiny=True, options={"zoom": GEOSYNTH_ZOOM}),
        BackendInfo("tiny-geosynth-canny", "geosynth", "tiny random GeoSynth-Canny (noise)",
                    BACKENDS["geosynth-canny"].uses, 64, 2, 7.5, is_tiny=True, options={"zoom": GEOSYNTH_ZOOM}),
        BackendInfo("tiny-map-sat", "map-sat", "tiny random map-sat (noise)", BACKENDS["map-sat"].uses, 64, 2, 7.5,
                    is_tiny=True, options={"zoom": MAPSAT_ZOOM, "prompt": MAPSAT_PROMPT}),
        BackendInfo("tiny-text2earth", "text2earth", "tiny random Text2Earth (noise)", BACKENDS["text2earth"].uses,
                    64, 2, 4.0, is_tiny=True),
        BackendInfo("tiny-copgen", "copgen", "tiny random COP-GEN (noise; 4 bands at 32 px)", COPGEN_USES, 64, 2,
                    1.0, is_tiny=True),
        BackendInfo("tiny-zoomldm", "zoomldm", "tiny random ZoomLDM (noise; 32 px)", ZOOMLDM_USES, 64, 2, 2.0,
                    is_tiny=True, options={"zoom_level": 3}),
        BackendInfo("tiny-aerogen", "aerogen", "tiny random AeroGen (noise)", AEROGEN_USES, 64, 2, 7.5,
                    is_tiny=True),
    )
}  # fmt: skip

ALL_BACKENDS = {**BACKENDS, **TINY_BACKENDS}

# Licence status of each generator's code and weights, as read from its repositories
# (../shared/fixtures/hub-configs/SOURCES.md); offered wherever the generator is offered.
LICENCES: dict[str, str] = {
    "sd3-medium": "weights: Stability AI Community licence, gated (accept it on the Hub)",
    "diffusionsat-256": "not recorded here: read the Zenodo record before use",
    "diffusionsat-512": "not recorded here: read the Zenodo record before use",
    "diffusionsat-weather": "yours (fine-tuned here from DiffusionSat)",
    "geosynth-osm": "weights: Apache-2.0 (Hub listing)",
    "geosynth-canny": "weights: Apache-2.0 (Hub listing)",
    "map-sat": "not recorded here: read the Hub page before use",
    "text2earth": "not recorded here: read the Hub page before use",
    "copgen": "code: Apache-2.0; weights: CC-BY-4.0 (credit the authors)",
    "zoomldm": "code: MIT; weights: no licence on the Hub listing seen here",
    "aerogen": "no licence file (code or weights): load your own download, do not redistribute",
    "terramind": "code (terratorch) and weights: Apache-2.0",
}


def licence_of(backend_id: str) -> str:
    """The licence status of a generator's code and weights (tiny ones: random weights built in code)."""
    if ALL_BACKENDS.get(backend_id) is not None and ALL_BACKENDS[backend_id].is_tiny:
        return "none (random test weights)"
    return LICENCES.get(backend_id, "not recorded")


def backend_info(backend_id: str) -> BackendInfo:
    """The registry entry of a backend id.

    Raises:
        BadRequestError: unknown id (the message lists the known ones).
    """
    try:
        return ALL_BACKENDS[backend_id]
    except KeyError as err:
        raise BadRequestError(f"Unknown generator {backend_id!r}.", f"Use one of: {', '.join(ALL_BACKENDS)}.") from err


def is_peer_backend(model_id: str) -> bool:
    """True for the non-SD3 families (their own loaders); SD3 ids and paths go through core.models."""
    info = ALL_BACKENDS.get(model_id)
    return info is not None and info.family != "sd3"


def local_checkpoint(backend_id: str, settings: Settings) -> Path | None:
    """`checkpoints/<id>/` when it holds a UNet or a pipeline (DiffusionSat's Zenodo layout is a unet/ folder)."""
    folder = settings.checkpoints_dir / backend_id
    if (folder / "model_index.json").is_file() or (folder / "unet" / "config.json").is_file():
        return folder
    nested = sorted(folder.glob("*/unet/config.json")) if folder.is_dir() else []
    return nested[-1].parent.parent if nested else None


# Families whose weights are original checkpoint files under checkpoints/<id>/ (not diffusers folders).
LOCAL_FAMILIES = ("copgen", "zoomldm", "aerogen")


def _check_local(info: BackendInfo, settings: Settings) -> Availability:
    """Weights of an original-checkpoint family in checkpoints/<id>/: found, or the one line saying how to get them."""
    folder = settings.checkpoints_dir / info.backend_id
    if info.family == "copgen":
        from core.models.backends.copgen import copgen_files

        net, vaes = copgen_files(folder)
        if net is not None and len(vaes) == 3:
            return Availability(info.backend_id, True, f"checkpoints: {net}")
    if info.family == "aerogen" and (folder / "unet" / "config.json").is_file():
        return Availability(info.backend_id, (folder / "box_encoder.safetensors").is_file(), f"checkpoints: {folder}")
    if info.family == "zoomldm":
        converted = (folder / "unet" / "config.json").is_file()
        if converted or (folder.is_dir() and any(folder.glob("**/weights.ckpt"))):
            return Availability(info.backend_id, True, f"checkpoints: {folder}")
    return Availability(info.backend_id, False, f"No {info.backend_id} weights in {folder}: {info.how_to_get}")


def optional_library_missing(family: str) -> ModelUnavailableError | None:
    """None when an optional family's library can be imported, else the refusal (not raised) naming the install."""
    import importlib.util

    module, command = OPTIONAL_FAMILIES[family]
    if importlib.util.find_spec(module) is not None:
        return None
    return ModelUnavailableError(
        f"{BACKENDS[family].description.split(' (')[0]} needs {module}, an optional extra that is not installed here.",
        f"Install it with `{command}`, then fetch the weights with `python -m core download --model {family}`.",
    )


def _check_optional(info: BackendInfo, settings: Settings) -> Availability:
    """A family on an optional library: the install line without it, else its weights in the Hugging Face cache."""
    from core.models.backends.terramind_hub import terramind_files

    missing = optional_library_missing(info.family)
    if missing:
        return Availability(info.backend_id, False, f"{missing.problem} {missing.fix}")
    try:
        files = terramind_files(settings)
    except ModelUnavailableError as err:  # the library is here, the weights are not
        return Availability(info.backend_id, False, f"{err.problem} {err.fix}")
    return Availability(info.backend_id, True, f"hf-cache: {next(iter(files.values())).parent}")


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here now, and if not, how to make it so."""

    backend_id: str
    available: bool
    detail: str


def check_available(backend_id: str, settings: Settings) -> Availability:
    """Look for a backend's weights on this machine (checkpoints/ and the Hugging Face cache; never downloads)."""
    from core.models.checkpoints import resolve_weights

    info = backend_info(backend_id)
    if info.is_tiny:
        return Availability(backend_id, True, "built in code (random weights: noise)")
    if info.family in OPTIONAL_FAMILIES:
        return _check_optional(info, settings)
    try:
        if info.family == "sd3":
            found = resolve_weights(backend_id, settings, allow_download=False, skip_parts=("text_encoder_3",))
            return Availability(backend_id, True, f"{found.origin}: {found.path}")
        if info.family == "diffusionsat":
            folder = local_checkpoint(backend_id, settings)
            if folder is None:
                return Availability(backend_id, False, info.how_to_get)
            if not (folder / "model_index.json").is_file():
                resolve_weights(getattr(settings, info.base_setting), settings, allow_download=False)
            return Availability(backend_id, True, f"checkpoints: {folder}")
        if info.family in LOCAL_FAMILIES:
            return _check_local(info, settings)
        if info.family in ("geosynth", "map-sat"):
            control = resolve_weights(
                info.options["controlnet_repo"], settings, what="ControlNet", pipeline=False, allow_download=False
            )
            resolve_weights(getattr(settings, info.base_setting), settings, allow_download=False)
            return Availability(backend_id, True, f"{control.origin}: {control.path}")
        found = resolve_weights(info.options["repo"], settings, allow_download=False)
        return Availability(backend_id, True, f"{found.origin}: {found.path}")
    except ModelUnavailableError as err:
        return Availability(backend_id, False, f"{info.how_to_get} ({err.problem})")
