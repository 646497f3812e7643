"""Model ids the product knows, and how a user-given model string maps to a source of weights.

A model string is one of `MODEL_IDS` (a short name), a local diffusers-format directory (one
with `model_index.json`), or a Hugging Face Hub repository id (`owner/name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadRequestError, ModelUnavailableError

TINY_MODEL_ID = "tiny-random"
SD3_MEDIUM_REPO = "stabilityai/stable-diffusion-3-medium-diffusers"

# short name -> Hub repository (None: built in code, nothing to download)
MODEL_IDS: dict[str, str | None] = {
    "sd3-medium": SD3_MEDIUM_REPO,
    TINY_MODEL_ID: None,
}

# What each short name is, as shown in the app and `--help`.
MODEL_DESCRIPTIONS: dict[str, str] = {
    "sd3-medium": "Stable Diffusion 3 Medium (gated on the Hugging Face Hub: needs a token and the licence "
    "accepted; ~16 GB download with T5)",
    TINY_MODEL_ID: "tiny random SD3 built in code, for tests and smoke runs: PRODUCES NOISE, not satellite images",
}

# Hub repositories known to be gated: a 401/403 then means "log in and accept the licence".
GATED_REPOS = frozenset({SD3_MEDIUM_REPO})

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


def list_models() -> list[tuple[str, str]]:
    """(id, description) of the built-in model ids, for menus and `--help`."""
    return [(model_id, MODEL_DESCRIPTIONS[model_id]) for model_id in MODEL_IDS]
