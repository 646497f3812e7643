"""Whether the configured model's weights are on this machine, checked without loading anything."""

from __future__ import annotations

import logging
from pathlib import Path

from app.formatting import TINY_MODEL_ID
from core.config import Settings

log = logging.getLogger(__name__)

# Diffusers folders start with this file; its presence is enough to call the weights "present".
MODEL_INDEX = "model_index.json"
# Hub repositories of the registry's ids (the gated SD3 base model).
HUB_REPOS = {"sd3-medium": "stabilityai/stable-diffusion-3-medium-diffusers"}


def weights_status(model_id: str, settings: Settings) -> tuple[bool | None, str]:
    """(present, detail): True/False for a local folder or a Hub id, None for `tiny-random`.

    Looks in the given folder, in `checkpoints/<id>`, and in the Hugging Face cache, never on the network.
    """
    if model_id == TINY_MODEL_ID:
        return None, ""
    path = Path(model_id).expanduser()
    if path.is_dir():
        if (path / MODEL_INDEX).is_file():
            return True, ""
        return False, f"The folder {path} has no {MODEL_INDEX} (not a diffusers pipeline folder)."
    local = settings.checkpoints_dir / model_id
    if (local / MODEL_INDEX).is_file():
        return True, ""
    repo = HUB_REPOS.get(model_id)
    if repo is None:
        return False, f"`{model_id}` is neither a known model id nor a folder."
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(repo, MODEL_INDEX)
    except Exception as err:  # a broken cache must not stop the app from starting
        log.warning("could not inspect the Hugging Face cache: %s", err)
        return None, ""
    if isinstance(cached, str):
        return True, ""
    return False, f"Neither {local} nor the Hugging Face cache holds `{repo}`."
