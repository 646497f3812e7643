"""The model a request runs on: its spec, and loading it into a generation engine.

Loading and caching belong to `core.models`; this is the one door the CLI and the app use, so
neither imports `core.models` itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.generation.request import MODES
from core.models.registry import MODEL_IDS, TINY_MODEL_ID
from core.models.spec import ModelSpec

__all__ = [
    "MODEL_IDS",
    "MODES",
    "TINY_MODEL_ID",
    "ModelSpec",
    "check_engine_matches",
    "load_engine",
    "model_choices",
    "shared_engine_loader",
    "weights_status",
]
log = logging.getLogger(__name__)


def load_engine(spec: ModelSpec, settings: Settings, progress=None, hf_cache_dir: str | None = None) -> Any:
    """A `core.models.engine.Engine` for `spec` (pipeline plus prompt-embedding cache).

    Args:
        spec: the model, LoRA, ControlNet, device, dtype.
        settings: checkpoints folder, offline mode.
        progress: `progress(step, total, message)` while loading.
        hf_cache_dir: a Hugging Face cache folder other than the default.
    """
    from core.models.engine import Engine
    from core.models.loading import load_pipeline

    if not isinstance(spec, ModelSpec):
        raise BadRequestError(f"The model {spec!r} is not a ModelSpec.", "Pass core.services.ModelSpec(model_id).")
    return Engine(load_pipeline(spec, settings, progress=progress, hf_cache_dir=hf_cache_dir))


def shared_engine_loader(max_bases: int = 1, hf_cache_dir: str | None = None) -> Callable[..., Any]:
    """A `load_engine` for long-running callers (the app) that keeps the loaded base model.

    One base per (model, device, dtype, T5, offload, LoRA) stays loaded (`core.models.model_cache`):
    switching text <-> ControlNet, between ControlNets, or moving the LoRA scale reuses it instead
    of reading SD3 Medium's ~16 GB again. A one-shot command has nothing to reuse and calls
    `load_engine`.
    """
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def load(spec: ModelSpec, settings: Settings, progress=None) -> Any:
        from core.models.model_cache import ModelCache

        if not isinstance(spec, ModelSpec):
            raise BadRequestError(f"The model {spec!r} is not a ModelSpec.", "Pass core.services.ModelSpec(model_id).")
        with lock:
            # other settings (checkpoints folder, policy, offline) are another cache
            if state.get("settings") is not settings:
                state["settings"] = settings
                state["cache"] = ModelCache(settings, max_bases=max_bases, hf_cache_dir=hf_cache_dir)
            cache = state["cache"]
        return cache.engine(spec, progress)

    return load


def check_engine_matches(engine: Any, spec: ModelSpec | None) -> None:
    """Refuse to run a request on an engine that holds another base model."""
    if spec is None:
        return
    loaded = getattr(engine, "loaded", engine)
    held = getattr(getattr(loaded, "spec", None), "model_id", None)
    if held is not None and held != spec.model_id:
        raise BadRequestError(
            f"The request asks for model {spec.model_id!r}, but the engine holds {held!r}.",
            "Load the engine for the request's model (core.services.load_engine).",
        )


def model_choices() -> list[tuple[str, str]]:
    """(model id, one-line description) of the known models, for a picker."""
    from core.models.registry import list_models

    return list(list_models())


def weights_status(model_id: str, settings: Settings) -> tuple[bool | None, str]:
    """(present, detail) of a model's weights on this machine, without loading or downloading.

    None for `tiny-random` (built in code) or when the check itself failed (logged); False with the
    reason when they are missing. Uses the loader's own search order (path, checkpoints/, HF cache).
    """
    if model_id == TINY_MODEL_ID:
        return None, ""
    from core.models.checkpoints import resolve_weights

    try:
        resolve_weights(model_id, settings, allow_download=False)
    except EcoMapperError as err:
        return False, str(err)
    except OSError as err:  # a broken cache folder must not stop a caller from starting
        log.warning("could not check the weights of %s: %s", model_id, err)
        return None, ""
    return True, ""
