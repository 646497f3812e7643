"""`python -m core download --model <peer backend>`: fetch a peer generator's weights and its base model mirror."""

from __future__ import annotations

import os
from pathlib import Path

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.models.backends.registry import backend_info
from core.models.checkpoints import ResolvedWeights, resolve_weights

TEXT2EARTH_PIPELINE_FILE = "pipeline_text2earth_diffusion.py"
BASE_SKIP = ("safety_checker", "feature_extractor")


def fetch_text2earth_pipeline_file(folder: Path, repo: str, settings: Settings, hf_cache_dir=None) -> Path:
    """Text2Earth's own pipeline file beside its snapshot (diffusers' weight patterns skip top-level .py files)."""
    target = folder / TEXT2EARTH_PIPELINE_FILE
    if target.is_file():
        return target
    if settings.offline:
        raise ModelUnavailableError(
            f"{folder} lacks {TEXT2EARTH_PIPELINE_FILE} and offline mode is on.",
            f"Run `python -m core download --model text2earth` while online (it fetches it from {repo}).",
        )
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(
            repo, TEXT2EARTH_PIPELINE_FILE, cache_dir=hf_cache_dir, endpoint=settings.hf_endpoint or None
        )
    except Exception as err:  # huggingface_hub raises many types; one message
        raise ModelUnavailableError(
            f"Could not fetch {TEXT2EARTH_PIPELINE_FILE} from {repo}: {err}", "Check the network and retry."
        ) from err
    return Path(path)


def download_backend(
    backend_id: str, settings: Settings, progress=None, hf_cache_dir: str | os.PathLike | None = None
) -> dict[str, ResolvedWeights]:
    """Make a peer backend's Hub-hosted parts local; returns what was found where.

    Raises:
        BadRequestError: a tiny or SD3 id (those go through `core.models.download_model`).
        ModelUnavailableError: the Hub refused, or offline.
    """
    info = backend_info(backend_id)
    if info.is_tiny or info.family == "sd3":
        raise BadRequestError(
            f"{backend_id} is not a peer backend with Hub weights.", "Use core.models.download_model."
        )
    common = dict(progress=progress, hf_cache_dir=hf_cache_dir)
    found: dict[str, ResolvedWeights] = {}
    if info.base_setting:
        base = getattr(settings, info.base_setting)
        found["base"] = resolve_weights(base, settings, what="base model", skip_parts=BASE_SKIP, **common)
    if info.family in ("geosynth", "map-sat"):
        found["controlnet"] = resolve_weights(
            info.options["controlnet_repo"], settings, what="ControlNet", pipeline=False, **common
        )
    elif info.family == "text2earth":
        repo = info.options["repo"]
        found["model"] = resolve_weights(repo, settings, skip_parts=BASE_SKIP, **common)
        pipeline_file = fetch_text2earth_pipeline_file(found["model"].path, repo, settings, hf_cache_dir)
        found["pipeline"] = ResolvedWeights(pipeline_file, "download", repo)
    return found
