"""Whether the configured model's weights are on this machine, checked without loading anything."""

from __future__ import annotations

import logging
from pathlib import Path

from app.formatting import TINY_MODEL_ID
from core.config import Settings
from core.errors import EcoMapperError

log = logging.getLogger(__name__)

# Diffusers folders start with this file; its presence is enough to call the weights "present".
MODEL_INDEX = "model_index.json"


def weights_status(model_id: str, settings: Settings) -> tuple[bool | None, str]:
    """(present, detail): True/False for a local folder or a Hub id, None for `tiny-random`.

    Looks in the given folder, in `checkpoints/<id>`, and in the Hugging Face cache, never on the network.
    """
    from core.models.registry import resolve_model_id

    if model_id == TINY_MODEL_ID:
        return None, ""
    try:
        source = resolve_model_id(model_id)
    except EcoMapperError as err:
        return False, str(err)
    if source.kind == "local":
        return True, ""
    local = settings.checkpoints_dir / Path(model_id).name
    if (local / MODEL_INDEX).is_file():
        return True, ""
    repo = source.repo_id
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(repo, MODEL_INDEX)
    except Exception as err:  # a broken cache must not stop the app from starting
        log.warning("could not inspect the Hugging Face cache: %s", err)
        return None, ""
    if isinstance(cached, str):
        return True, ""
    return False, f"Neither {local} nor the Hugging Face cache holds `{repo}`."
