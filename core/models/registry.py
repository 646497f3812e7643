"""Model ids the product knows, and how a user-given model string maps to a source of weights.

A model string is one of `MODEL_IDS` (a short name), a local diffusers-format directory (one
with `model_index.json`), or a Hugging Face Hub repository id (`owner/name`). Known public SD3
ControlNets are listed in `CONTROLNETS` with what each needs (preprocessing, control range,
default conditioning scale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadRequestError, ModelUnavailableError

TINY_MODEL_ID = "tiny-random"
SD3_MEDIUM_REPO = "stabilityai/stable-diffusion-3-medium-diffusers"
SD35_MEDIUM_REPO = "stabilityai/stable-diffusion-3.5-medium"
SD35_LARGE_REPO = "stabilityai/stable-diffusion-3.5-large"
# sd3.5-large's `--quality preview` (core.generation.quality): a distilled model, gated like its base
SD35_LARGE_TURBO_REPO = "stabilityai/stable-diffusion-3.5-large-turbo"

# Parameter counts of the parts SD3 Medium and SD3.5 Large share, computed with diffusers 0.42.1 /
# transformers 5 from the real Hub config files (tests/unit/test_models_real_architectures.py
# rebuilds them on the meta device and checks these numbers).
CLIP_L_PARAMETERS = 123_650_304
CLIP_G_PARAMETERS = 694_659_840
T5_XXL_PARAMETERS = 4_893_906_944
SD3_VAE_PARAMETERS = 83_819_683


@dataclass(frozen=True)
class KnownModel:
    """A base model the product knows by a short name.

    Attributes:
        model_id: the short name (`--model`).
        repo_id: its Hub repository (None: built in code).
        description: one line for menus and `--help`.
        gated: the Hub asks for a token and an accepted licence.
        transformer_parameters: the MMDiT's parameter count (None where no config was checked).
        differs: what differs from SD3 Medium, for the README and `--help`.
        controlnet_family: ControlNets made for this family fit it ("sd3-medium" for the InstantX ones).
    """

    model_id: str
    repo_id: str | None
    description: str
    gated: bool = False
    transformer_parameters: int | None = None
    differs: str = ""
    controlnet_family: str = ""

    def part_parameters(self) -> dict[str, int]:
        """Parameters per pipeline part (SD3-family text encoders and VAE are the same in all)."""
        if self.transformer_parameters is None:
            return {}
        return {
            "transformer": self.transformer_parameters,
            "vae": SD3_VAE_PARAMETERS,
            "text_encoder": CLIP_L_PARAMETERS,
            "text_encoder_2": CLIP_G_PARAMETERS,
            "text_encoder_3": T5_XXL_PARAMETERS,
        }


KNOWN_MODELS: dict[str, KnownModel] = {
    model.model_id: model
    for model in (
        KnownModel(
            "sd3-medium",
            SD3_MEDIUM_REPO,
            "Stable Diffusion 3 Medium (gated on the Hugging Face Hub: needs a token and the licence accepted; "
            "~16 GB download with T5)",
            gated=True,
            transformer_parameters=2_028_328_000,
            controlnet_family="sd3-medium",
        ),
        KnownModel(
            "sd3.5-medium",
            SD35_MEDIUM_REPO,
            "Stable Diffusion 3.5 Medium (gated like sd3-medium; MMDiT-X ~2.5 B: qk_norm, dual attention in "
            "the first 13 blocks, 384 position-embedding patches; ~5 GB transformer + ~11 GB text encoders)",
            gated=True,
            differs="MMDiT-X: RMS qk_norm, dual (self + joint) attention in blocks 0-12, pos_embed_max_size 384; "
            "SD3 Medium ControlNets (InstantX) do not fit it",
            controlnet_family="sd3.5-medium",
        ),
        KnownModel(
            "sd3.5-large",
            SD35_LARGE_REPO,
            "Stable Diffusion 3.5 Large (gated like sd3-medium; 8.1 B transformer, 38 blocks of width 2432, "
            "RMS qk_norm; ~16 GB transformer in bf16: a 24 GB GPU needs --cpu-offload or --no-t5)",
            gated=True,
            transformer_parameters=8_056_627_520,
            differs="38 blocks, 38 heads (width 2432), RMS qk_norm; same text encoders, VAE and scheduler; "
            "SD3 Medium ControlNets (InstantX) do not fit it",
            controlnet_family="sd3.5-large",
        ),
        KnownModel(
            TINY_MODEL_ID,
            None,
            "tiny random SD3 built in code, for tests and smoke runs: PRODUCES NOISE, not satellite images",
            controlnet_family=TINY_MODEL_ID,
        ),
    )
}

# short name -> Hub repository (None: built in code, nothing to download)
MODEL_IDS: dict[str, str | None] = {model_id: model.repo_id for model_id, model in KNOWN_MODELS.items()}
# What each short name is, as shown in the app and `--help`.
MODEL_DESCRIPTIONS: dict[str, str] = {model_id: model.description for model_id, model in KNOWN_MODELS.items()}
# Hub repositories known to be gated: a 401/403 then means "log in and accept the licence".
GATED_REPOS = frozenset(
    [model.repo_id for model in KNOWN_MODELS.values() if model.gated and model.repo_id] + [SD35_LARGE_TURBO_REPO]
)

# The control range (the ControlNet's VAE input in [-1, 1] as diffusers and our trainer, or [0, 1] as
# the original EcoMapper scripts) is `ModelSpec.control_range`, applied by core.models.original_formats.
# Canny thresholds on the Sobel gradient magnitude of the 0-255 grey image, after a Gaussian blur of
# sigma 1 px: the 100 / 200 pair of the ControlNet Canny examples (cv2.Canny(gray, 100, 200)).
CANNY_LOW_THRESHOLD = 100.0
CANNY_HIGH_THRESHOLD = 200.0
CANNY_SIGMA_PX = 1.0


@dataclass(frozen=True)
class ControlProfile:
    """What a ControlNet needs from its control image.

    Attributes:
        preprocess: "none" (the image as is) or "canny" (white Canny edges on black).
        conditioning_scale: default `controlnet_conditioning_scale`.
    """

    preprocess: str = "none"
    conditioning_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.preprocess not in ("none", "canny"):
            raise BadRequestError(f"Unknown control preprocessing {self.preprocess!r}.", "Use 'none' or 'canny'.")

    @property
    def is_edge(self) -> bool:
        return self.preprocess == "canny"


@dataclass(frozen=True)
class KnownControlNet:
    """A public ControlNet the product knows by a short name.

    Attributes:
        controlnet_id: the short name (`--controlnet`).
        repo_id: its Hub repository.
        base_model: the short name of the base it fits.
        profile: preprocessing, control range and default scale.
        num_layers: transformer blocks in the ControlNet.
        parameters: its parameter count (checked against the real config in the tests).
        description: one line for menus and `--help`.
    """

    controlnet_id: str
    repo_id: str
    base_model: str
    profile: ControlProfile
    num_layers: int
    parameters: int
    description: str


CONTROLNETS: dict[str, KnownControlNet] = {
    known.controlnet_id: known
    for known in (
        KnownControlNet(
            "instantx-tile",
            "InstantX/SD3-Controlnet-Tile",
            "sd3-medium",
            # 0.5: the value in the InstantX Tile model card's demo
            ControlProfile("none", 0.5),
            num_layers=6,
            parameters=538_805_760,
            description="InstantX SD3 Tile ControlNet (6 blocks, 539 M; not gated): the control image as is; "
            "the default zero-shot ControlNet for sd3-medium",
        ),
        KnownControlNet(
            "instantx-canny",
            "InstantX/SD3-Controlnet-Canny",
            "sd3-medium",
            ControlProfile("canny", 0.5),
            num_layers=6,
            parameters=538_805_760,
            description="InstantX SD3 Canny ControlNet (6 blocks, 539 M; not gated): fed Canny edges of the control "
            f"image (thresholds {CANNY_LOW_THRESHOLD:g}/{CANNY_HIGH_THRESHOLD:g}), never the raw image",
        ),
    )
}
DEFAULT_ZERO_SHOT_CONTROLNET = "instantx-tile"
CONTROLNET_REPOS: dict[str, str] = {known.controlnet_id: known.repo_id for known in CONTROLNETS.values()}

_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelSource:
    """Where a model's weights come from.

    Attributes:
        model_id: the string the user gave.
        kind: "tiny" (built in code), "local" (a diffusers directory) or "hub" (a Hub repository).
        repo_id: the Hub repository for "hub".
        path: the directory for "local".
        description: one line for listings (says "noise" for the tiny model).
    """

    model_id: str
    kind: str
    repo_id: str | None = None
    path: Path | None = None
    description: str = ""

    @property
    def is_tiny(self) -> bool:
        return self.kind == "tiny"

    @property
    def known(self) -> KnownModel | None:
        """The registry entry of a short name (or of its Hub repository), else None."""
        if self.model_id in KNOWN_MODELS:
            return KNOWN_MODELS[self.model_id]
        return next((m for m in KNOWN_MODELS.values() if m.repo_id and m.repo_id == self.repo_id), None)


def is_diffusers_dir(path: Path) -> bool:
    """A folder saved by `DiffusionPipeline.save_pretrained` (it has a model_index.json)."""
    return path.is_dir() and (path / "model_index.json").is_file()


def resolve_model_id(model_id: str) -> ModelSource:
    """Classify a model string (no network access, no weights read).

    Raises:
        BadRequestError: the string is neither a known id, nor a diffusers directory, nor a Hub id.
    """
    text = str(model_id).strip()
    if text in MODEL_IDS:
        repo = MODEL_IDS[text]
        if repo is None:
            return ModelSource(text, "tiny", description=MODEL_DESCRIPTIONS[text])
        return ModelSource(text, "hub", repo_id=repo, description=MODEL_DESCRIPTIONS[text])
    path = Path(text).expanduser()
    if path.exists():
        if not is_diffusers_dir(path):
            raise ModelUnavailableError(
                f"The folder {path} is not a diffusers model (it has no model_index.json).",
                "Point --model at a folder written by save_pretrained, or use one of: " + ", ".join(MODEL_IDS) + ".",
            )
        return ModelSource(text, "local", path=path.resolve(), description=f"local diffusers model at {path}")
    if _REPO_ID_RE.match(text) and not text.startswith((".", "/", "~")):
        return ModelSource(text, "hub", repo_id=text, description=f"Hugging Face Hub repository {text}")
    raise BadRequestError(
        f"Unknown model {text!r}: not a known id, not an existing folder, not a Hub repository id.",
        f"Use one of {', '.join(MODEL_IDS)}, a local diffusers folder, or a Hub id like owner/name.",
    )


def known_controlnet(ref: str) -> KnownControlNet | None:
    """The registry entry for a ControlNet short name or Hub id, else None."""
    text = str(ref).strip()
    if text in CONTROLNETS:
        return CONTROLNETS[text]
    return next((known for known in CONTROLNETS.values() if known.repo_id == text), None)


def list_models() -> list[tuple[str, str]]:
    """(id, description) of the built-in model ids, for menus and `--help`."""
    return [(model_id, MODEL_DESCRIPTIONS[model_id]) for model_id in MODEL_IDS]


def list_controlnets() -> list[tuple[str, str]]:
    """(id, description) of the known ControlNets, for menus and `--help`."""
    return [(known.controlnet_id, known.description) for known in CONTROLNETS.values()]
