"""Where metric network weights come from: an explicit path, checkpoints/metrics/, caches, download.

Order, first hit wins: the path the caller gives; `<checkpoints_dir>/metrics/<file>`; the torch hub
cache (`$TORCH_HOME/hub/checkpoints/<file>`, where torchvision / pytorch-fid users already have
them) or the Hugging Face cache; a copy shipped inside an installed package (torchmetrics ships
the LPIPS heads); finally a download into `<checkpoints_dir>/metrics/` with a progress bar, unless
offline. Nothing is loaded at import time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSpec:
    """A standard weight file: its canonical file name, URL and sha256 prefix (as torch hub names it)."""

    name: str
    filename: str
    url: str
    sha256_prefix: str | None = None
    # (package, path inside it) of a copy shipped with an installed library
    bundled: tuple[str, str] | None = None
    what: str = ""


# pytorch-fid's port of the TensorFlow 2015-12-05 Inception graph (the FID reference network).
INCEPTION_FID = WeightSpec(
    name="inception-fid",
    filename="pt_inception-2015-12-05-6726825d.pth",
    url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth",
    sha256_prefix="6726825d",
    what="FID Inception-v3 (2015-12-05 graph)",
)
# torchvision's ImageNet AlexNet, the LPIPS backbone.
ALEXNET = WeightSpec(
    name="alexnet",
    filename="alexnet-owt-7be5be79.pth",
    url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    sha256_prefix="7be5be79",
    what="AlexNet (LPIPS backbone)",
)
# The LPIPS v0.1 linear heads for AlexNet (Zhang et al. 2018); torchmetrics ships the same file.
LPIPS_ALEX_HEADS = WeightSpec(
    name="lpips-alex",
    filename="lpips-v0.1-alex.pth",
    url="https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth",
    bundled=("torchmetrics", "functional/image/lpips_models/alex.pth"),
    what="LPIPS v0.1 AlexNet linear heads",
)
WEIGHT_SPECS = {spec.name: spec for spec in (INCEPTION_FID, ALEXNET, LPIPS_ALEX_HEADS)}

# CLIP score model (paper: ViT-B/16), a Hugging Face repository.
CLIP_REPO_ID = "openai/clip-vit-base-patch16"
CLIP_DIRNAME = "clip-vit-base-patch16"
CLIP_FILES = ("config.json", "*.safetensors", "preprocessor_config.json", "tokenizer*", "vocab.json", "merges.txt",
              "special_tokens_map.json")  # fmt: skip


def metrics_dir(settings: Settings) -> Path:
    return Path(settings.checkpoints_dir) / "metrics"


def torch_hub_checkpoints_dir() -> Path:
    """`$TORCH_HOME/hub/checkpoints` (default ~/.cache/torch/hub/checkpoints), without importing torch."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "torch"
    )
    return Path(torch_home) / "hub" / "checkpoints"


def _bundled_path(spec: WeightSpec) -> Path | None:
    if spec.bundled is None:
        return None
    import importlib.util

    package, inner = spec.bundled
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    candidate = Path(next(iter(found.submodule_search_locations))) / inner
    return candidate if candidate.is_file() else None


def candidate_paths(spec: WeightSpec, settings: Settings) -> list[Path]:
    """Where a weight file is looked for, in order (before any download)."""
    paths = [metrics_dir(settings) / spec.filename, torch_hub_checkpoints_dir() / spec.filename]
    bundled = _bundled_path(spec)
    if bundled is not None:
        paths.append(bundled)
    return paths


def resolve_weight_file(
    spec: WeightSpec | str,
    settings: Settings,
    explicit: str | os.PathLike | None = None,
    *,
    download: bool = True,
    url: str | None = None,
    progress: bool = True,
) -> Path:
    """Find (or fetch) a metric weight file.

    Args:
        spec: a WeightSpec or its name (`inception-fid`, `alexnet`, `lpips-alex`).
        settings: checkpoints folder and offline flag.
        explicit: a path the user gave; used as is and must exist.
        download: allow a download when no local copy exists.
        url: download from this URL instead of the standard one (mirrors; tests).
        progress: show a progress bar while downloading.

    Returns:
        The path of the weight file.

    Raises:
        BadRequestError: `explicit` does not exist.
        ModelUnavailableError: no local copy and downloading is off, offline or failed.
    """
    spec = WEIGHT_SPECS[spec] if isinstance(spec, str) else spec
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise BadRequestError(
                f"The {spec.what or spec.name} weight file {path} does not exist.",
                f"Give the path of {spec.filename} (download it from {spec.url}).",
            )
        return path
    looked = candidate_paths(spec, settings)
    for path in looked:
        if path.is_file():
            log.debug("using %s weights from %s", spec.name, path)
            return path
    where = ", ".join(str(p) for p in looked)
    if settings.offline or not download:
        reason = "offline mode is on" if settings.offline else "downloading is switched off"
        raise ModelUnavailableError(
            f"The {spec.what or spec.name} weights ({spec.filename}) are not on this machine (looked in {where}) "
            f"and {reason}.",
            f"Download {spec.url} into {metrics_dir(settings)}/ or pass its path explicitly.",
        )
    return _download(spec, settings, url or spec.url, progress, where)


def _download(spec: WeightSpec, settings: Settings, url: str, progress: bool, where: str) -> Path:
    import torch.hub

    target = metrics_dir(settings) / spec.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    # Only the standard file has a known hash; a mirror may serve a re-saved copy.
    hash_prefix = spec.sha256_prefix if url == spec.url else None
    log.info("downloading %s weights from %s to %s", spec.name, url, target)
    try:
        # writes to a temporary file and renames it, so a broken download never leaves a partial file
        torch.hub.download_url_to_file(url, str(target), hash_prefix=hash_prefix, progress=progress)
    except Exception as err:  # URLError, HTTPError, RuntimeError (hash mismatch), OSError
        target.unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"Could not download the {spec.what or spec.name} weights from {url}: {err} (also looked in {where}).",
            f"Check the connection, or download the file yourself into {metrics_dir(settings)}/.",
        ) from err
    return target


def resolve_clip_dir(settings: Settings, explicit: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """A local folder holding a Hugging Face CLIP model (config, weights, tokenizer, image processor).

    Order: `explicit`; `<checkpoints_dir>/metrics/clip-vit-base-patch16/`; the Hugging Face cache;
    a download of `openai/clip-vit-base-patch16` (not offline).

    Raises:
        BadRequestError: `explicit` is not a CLIP model folder.
        ModelUnavailableError: not found locally and it cannot be downloaded.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not (path / "config.json").is_file():
            raise BadRequestError(
                f"{path} is not a CLIP model folder (no config.json).",
                f"Give a folder saved with save_pretrained, e.g. a download of {CLIP_REPO_ID}.",
            )
        return path
    local = metrics_dir(settings) / CLIP_DIRNAME
    if (local / "config.json").is_file():
        return local
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    endpoint = settings.hf_endpoint or None
    try:
        return Path(
            snapshot_download(CLIP_REPO_ID, allow_patterns=list(CLIP_FILES), local_files_only=True, endpoint=endpoint)
        )
    except (LocalEntryNotFoundError, OSError, ValueError) as err:
        log.debug("%s is not in the Hugging Face cache (%s); next: download.", CLIP_REPO_ID, err)
    if settings.offline or not download:
        raise ModelUnavailableError(
            f"The CLIP score model {CLIP_REPO_ID} is not on this machine (looked in {local} and the Hugging Face "
            f"cache) and {'offline mode is on' if settings.offline else 'downloading is switched off'}.",
            f"Run once online, or save the model into {local}/.",
        )
    try:
        return Path(snapshot_download(CLIP_REPO_ID, allow_patterns=list(CLIP_FILES), endpoint=endpoint))
    except Exception as err:  # network, auth, disk errors from the Hub client
        raise ModelUnavailableError(
            f"Could not download {CLIP_REPO_ID}: {err}.",
            f"Check the connection, or save the model into {local}/.",
        ) from err
