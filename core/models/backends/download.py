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


# Families whose weights are original files copied into checkpoints/<id>/: (repo, file patterns) per family.
# COP-GEN needs its network and the autoencoders of the modalities it reads or writes (land cover, cloud mask,
# S2 L2A B04/B03/B02/B08); ZoomLDM its NAIP checkpoint (converted to diffusers folders once downloaded).
ORIGINAL_FILES = {
    "copgen": (
        ("mespinosami/copgen-base", ("*nnet_ema.pth", "*.md")),
        ("mespinosami/copgen-vaes", ("*LULC*", "*cloud_mask*", "*S2L2A*B4_3_2_8*", "*S2L2A_B02_B03_B04_B08*")),
    ),
    "zoomldm": (("StonyBrook-CVLab/ZoomLDM", ("naip/*",)),),
}


def fetch_original_files(backend_id: str, settings: Settings, hf_cache_dir=None) -> dict[str, ResolvedWeights]:
    """Copy a family's original weight files from the Hub into checkpoints/<id>/ (and convert ZoomLDM's).

    Raises:
        ModelUnavailableError: offline, or the Hub refused (one line, with the repository).
    """
    from huggingface_hub import snapshot_download

    info = backend_info(backend_id)
    folder = settings.checkpoints_dir / backend_id
    if settings.offline:
        raise ModelUnavailableError(f"{backend_id}: offline mode is on.", info.how_to_get)
    found: dict[str, ResolvedWeights] = {}
    for repo, patterns in ORIGINAL_FILES[info.family]:
        try:
            snapshot_download(repo, allow_patterns=list(patterns), local_dir=folder, cache_dir=hf_cache_dir,
                              endpoint=settings.hf_endpoint or None)  # fmt: skip
        except Exception as err:  # huggingface_hub raises many types; one message
            raise ModelUnavailableError(
                f"Could not fetch {repo}: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
                "Check the network (and the repository's terms on the Hub), then retry.",
            ) from err
        found[repo] = ResolvedWeights(folder, "download", repo)
    if info.family == "zoomldm":
        from core.models.backends.zoomldm_convert import load_converted
        from core.models.backends.zoomldm_net import DINO_REPO

        found["dino"] = resolve_weights(DINO_REPO, settings, what="DINOv2", pipeline=False, hf_cache_dir=hf_cache_dir)
        load_converted(folder, settings)  # converts naip/weights.ckpt into unet/, vqvae/, summarizer
    return found


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
    elif info.family in ORIGINAL_FILES:
        found.update(fetch_original_files(info.backend_id, settings, hf_cache_dir))
    elif info.family == "aerogen":
        raise ModelUnavailableError(f"{backend_id} cannot be downloaded here.", info.how_to_get)
    elif info.family == "terramind":  # into the Hugging Face cache, where terratorch would look too
        from core.models.backends.terramind_hub import terramind_files

        found.update({repo: ResolvedWeights(path, "download", repo)
                      for repo, path in terramind_files(settings, hf_cache_dir, download=True).items()})  # fmt: skip
    elif info.family == "text2earth":
        repo = info.options["repo"]
        found["model"] = resolve_weights(repo, settings, skip_parts=BASE_SKIP, **common)
        pipeline_file = fetch_text2earth_pipeline_file(found["model"].path, repo, settings, hf_cache_dir)
        found["pipeline"] = ResolvedWeights(pipeline_file, "download", repo)
    return found
