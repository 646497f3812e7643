"""Whether the configured model's weights are on this machine, checked without loading or downloading."""

from __future__ import annotations

import logging

from app.formatting import TINY_MODEL_ID
from core.config import Settings
from core.errors import EcoMapperError

log = logging.getLogger(__name__)


def weights_status(model_id: str, settings: Settings) -> tuple[bool | None, str]:
    """(present, detail): True/False for a folder, a short id or a Hub id; None for `tiny-random`.

    Uses core's own resolution order (explicit path, `checkpoints/`, the Hugging Face cache) with
    downloads disabled, so the answer matches what the first generation will find.
    """
    if model_id == TINY_MODEL_ID:
        return None, ""
    from core.models.checkpoints import resolve_weights

    try:
        resolve_weights(model_id, settings, allow_download=False)
    except EcoMapperError as err:
        return False, str(err)
    except Exception as err:  # a broken cache must not stop the app from starting
        log.warning("could not check the weights of %s: %s", model_id, err)
        return None, ""
    return True, ""
