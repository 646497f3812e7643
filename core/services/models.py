"""The generator a request runs on: its spec, and loading it (SD3 into a generation engine, a peer
generator into its backend).

Loading and caching belong to `core.models`; this is the one door the CLI and the app use, so
neither imports `core.models` itself. Every generator the registry knows loads here, so every
service (generate, time-lapse, grid, compare) runs on any of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from core.config import Settings
from core.errors import BadRequestError, EcoMapperError
from core.generation.request import MODES
from core.models.backends.registry import is_peer_backend
from core.models.registry import MODEL_IDS, TINY_MODEL_ID
from core.models.spec import ModelSpec

__all__ = [
    "MODEL_IDS",
    "MODES",
    "TINY_MODEL_ID",
    "ModelSpec",
    "check_engine_matches",
    "controlnet_choices",
    "default_controlnet_scale",
    "download_weights",
    "generator_ids",
    "load_engine",
    "model_choices",
    "shared_engine_loader",
    "weights_status",
]
log = logging.getLogger(__name__)


def load_engine(spec: ModelSpec, settings: Settings, progress=None, hf_cache_dir: str | None = None) -> Any:
    """What `spec` runs on: a `core.models.engine.Engine` (SD3: pipeline plus prompt-embedding cache),
    or the peer generator's `Backend` (DiffusionSat, GeoSynth, map-sat, Text2Earth and their tiny variants).

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
    if is_peer_backend(spec.model_id):
        return _load_peer(spec, settings)
    return Engine(load_pipeline(spec, settings, progress=progress, hf_cache_dir=hf_cache_dir))


def _load_peer(spec: ModelSpec, settings: Settings) -> Any:
    """A peer generator; SD3 adapters (LoRA, ControlNet) do not fit it."""
    from core.models.backends import load_backend

    extras = [name for name in ("lora", "controlnet") if getattr(spec, name, None)]
    if extras:
        raise BadRequestError(
            f"{spec.model_id} is not an SD3 model: a {' or '.join(extras)} cannot be attached to it.",
            "Leave --lora / --controlnet out, or pick an SD3 model.",
        )
    if settings.model_policy is not None:
        settings.model_policy.check_spec(spec)
    return load_backend(spec.model_id, settings)


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
                state["peers"] = {}
            cache, peers = state["cache"], state["peers"]
            if is_peer_backend(spec.model_id):
                if spec.model_id not in peers:  # one peer kept at a time, as one SD3 base
                    peers.clear()
                    peers[spec.model_id] = _load_peer(spec, settings)
                return peers[spec.model_id]
        return cache.engine(spec, progress)

    return load


def check_engine_matches(engine: Any, spec: ModelSpec | None) -> None:
    """Refuse to run a request on an engine (or peer generator) that holds another model."""
    if spec is None:
        return
    loaded = getattr(engine, "loaded", engine)
    held = getattr(getattr(loaded, "spec", None), "model_id", None) or getattr(engine, "backend_id", None)
    if held is not None and held != spec.model_id:
        raise BadRequestError(
            f"The request asks for model {spec.model_id!r}, but the engine holds {held!r}.",
            "Load the engine for the request's model (core.services.load_engine).",
        )


def model_choices(peers: bool = True) -> list[tuple[str, str]]:
    """(model id, one-line description) of the known models: the SD3 family, then (with `peers`) the peer
    generators, for a picker."""
    from core.models.backends.registry import ALL_BACKENDS
    from core.models.registry import list_models

    sd3 = list(list_models())
    known = {model_id for model_id, _ in sd3}
    return sd3 + [(bid, info.description) for bid, info in ALL_BACKENDS.items() if peers and bid not in known]


def weights_status(model_id: str, settings: Settings) -> tuple[bool | None, str]:
    """(present, detail) of a model's weights on this machine, without loading or downloading.

    None for `tiny-random` (built in code) or when the check itself failed (logged); False with the
    reason when they are missing. Uses the loader's own search order (path, checkpoints/, HF cache).
    """
    if model_id == TINY_MODEL_ID:
        return None, ""
    if is_peer_backend(model_id):
        from core.models.backends.registry import backend_info, check_available

        if backend_info(model_id).is_tiny:
            return None, ""
        status = check_available(model_id, settings)
        return status.available, "" if status.available else status.detail
    from core.models.checkpoints import resolve_weights

    try:
        resolve_weights(model_id, settings, allow_download=False)
    except EcoMapperError as err:
        return False, str(err)
    except OSError as err:  # a broken cache folder must not stop a caller from starting
        log.warning("could not check the weights of %s: %s", model_id, err)
        return None, ""
    return True, ""


def generator_ids(tiny: bool = False) -> list[str]:
    """Every generator id with public weights (or, with `tiny`, every tiny random variant), in sheet order."""
    from core.models.backends.registry import BACKENDS, TINY_BACKENDS

    return list(TINY_BACKENDS if tiny else BACKENDS)


def controlnet_choices() -> list[tuple[str, str]]:
    """(id, description) of the known SD3 ControlNets, for menus and `--help`."""
    from core.models.registry import list_controlnets

    return list(list_controlnets())


def default_controlnet_scale(spec: ModelSpec | None) -> float:
    """The conditioning scale a known ControlNet is made for (1.0 for others)."""
    from core.models.registry import known_controlnet

    known = known_controlnet(spec.controlnet) if spec is not None and spec.controlnet else None
    return known.profile.conditioning_scale if known else 1.0


def download_weights(
    settings: Settings,
    *,
    model: str | None = None,
    controlnet: str | None = None,
    lora: str | None = None,
    no_t5: bool = False,
    hf_cache_dir: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Fetch a generator's weights (and a ControlNet / LoRA) into the Hugging Face cache.

    Returns what was found ({part: found weights with `.path` and `.origin`}) and notes for the user
    (DiffusionSat's UNet is not on the Hub: where to get it).

    Raises:
        BadRequestError: nothing asked for.
        ModelUnavailableError: offline, gated without a token, or not found.
    """
    from core.models.backends.registry import backend_info
    from core.models.checkpoints import resolve_weights
    from core.models.loading import download_model

    if not (model or controlnet or lora):
        raise BadRequestError("Nothing to download.", "Pass --model ID, --controlnet ID and/or --lora ID.")
    found: dict[str, Any] = {}
    notes: list[str] = []
    if model and is_peer_backend(model):  # DiffusionSat, GeoSynth, map-sat, Text2Earth: their own weights
        from core.models.backends.download import download_backend

        found = download_backend(model, settings, hf_cache_dir=hf_cache_dir)
        info = backend_info(model)
        if info.family == "diffusionsat":
            notes.append(f"{model}: the SD 2.1 parts are here; the UNet is not on the Hub. {info.how_to_get}")
    elif model:
        found = {"model": download_model(model, settings, drop_t5=no_t5, hf_cache_dir=hf_cache_dir)}
    for what, ref in (("ControlNet", controlnet), ("LoRA", lora)):
        if ref:
            found[what.lower()] = resolve_weights(ref, settings, what=what, pipeline=False, hf_cache_dir=hf_cache_dir)
    return found, notes
