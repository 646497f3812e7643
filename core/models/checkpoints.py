"""Finding weights on disk or on the Hugging Face Hub, in a fixed order.

1. an explicit path (a folder or a file the user names);
2. `settings.checkpoints_dir/<id>` (or `<owner>--<name>` for a Hub id);
3. the Hugging Face cache (a complete snapshot, no network);
4. a download from the Hub with a progress bar (not in offline mode).

Every failure is a `ModelUnavailableError` that says what was missing and what to do (log in and
accept the licence for a gated model, download while online, re-save an incomplete folder).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import ModelUnavailableError
from core.generation.progress import ProgressCallback
from core.models.registry import CONTROLNET_REPOS, GATED_REPOS, MODEL_IDS

log = logging.getLogger(__name__)


# Files a diffusers pipeline needs; skips the single-file checkpoints some repositories also hold
# at the top level (e.g. sd3_medium_incl_clips_t5xxlfp8.safetensors, several GB each).
PIPELINE_PATTERNS = ("model_index.json", "*/*.json", "*/*.safetensors", "*/*.txt", "*/*.model")
# A ControlNet or LoRA repository: its weights and configs.
COMPONENT_PATTERNS = ("*.json", "*.safetensors")
T5_PATTERNS = ("text_encoder_3/*", "tokenizer_3/*")

HF_TOKENS_URL = "https://huggingface.co/settings/tokens"


@dataclass(frozen=True)
class ResolvedWeights:
    """Where weights were found: `path` (folder or file), `origin` (path, checkpoints, hf-cache, download)."""

    path: Path
    origin: str
    repo_id: str | None = None


def _hub_offline(settings: Settings) -> bool:
    return settings.offline or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _known_repo(ref: str) -> str | None:
    """The Hub repository of a short model or ControlNet name, or `ref` itself when it is owner/name."""
    return MODEL_IDS.get(ref) or CONTROLNET_REPOS.get(ref) or (ref if "/" in ref else None)


def download_command(ref: str, what: str) -> str:
    """The `python -m core download` line that fetches `ref`."""
    if what == "model":
        return f"python -m core download --model {ref}"
    flag = "--controlnet" if what == "ControlNet" else "--lora"
    return f"python -m core download {flag} {ref}"


def checkpoint_names(ref: str) -> list[str]:
    """Folder names under checkpoints/ that may hold `ref` (its id, and owner--name for a Hub id)."""
    names = [ref]
    repo = _known_repo(ref)
    if repo:
        names.append(repo.replace("/", "--"))
    return names


def missing_pipeline_parts(folder: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Components listed in a pipeline folder's model_index.json whose subfolder has no weights/config.

    Args:
        folder: a folder written by `save_pretrained` (or a Hub snapshot).
        skip: components that may be absent (e.g. text_encoder_3 when T5 is dropped).
    """
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        return ["model_index.json"]
    try:
        index = json.loads(index_file.read_text())
    except (OSError, json.JSONDecodeError):
        return ["model_index.json (unreadable)"]
    missing = []
    for name, value in index.items():
        if name.startswith("_") or name in skip or not isinstance(value, list) or value[0] is None:
            continue
        sub = folder / name
        if not sub.is_dir() or not any(sub.iterdir()):
            missing.append(name)
        elif name.startswith(("text_encoder", "transformer", "vae", "controlnet")) and not any(
            p.suffix in (".safetensors", ".bin") for p in sub.iterdir()
        ):
            missing.append(f"{name} weights")
    return missing


def _tqdm_class(progress: ProgressCallback | None, label: str):
    """A tqdm class for huggingface_hub that also reports to `progress(step, total, message)`."""
    from tqdm.auto import tqdm

    if progress is None:
        return None

    class _ReportingTqdm(tqdm):
        def update(self, n=1):
            shown = super().update(n)
            progress(int(self.n), int(self.total or 0), f"downloading {label}")
            return shown

    return _ReportingTqdm


def _translate_hub_error(err: Exception, repo_id: str, what: str) -> ModelUnavailableError:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    page = f"https://huggingface.co/{repo_id}"
    if isinstance(err, GatedRepoError):
        return ModelUnavailableError(
            f"The {what} {repo_id} is gated on the Hugging Face Hub: your account must accept its licence "
            "and the download must carry your token.",
            f"Accept the licence at {page} (logged in), create a read token at {HF_TOKENS_URL}, then run "
            "`hf auth login` or set HF_TOKEN, and try again.",
        )
    if isinstance(err, RepositoryNotFoundError):
        hint = " It is gated: accept its licence and log in." if repo_id in GATED_REPOS else ""
        return ModelUnavailableError(
            f"The {what} {repo_id} was not found on the Hugging Face Hub "
            f"(or it is private and no token was sent).{hint}",
            f"Check the id at {page}; for a private repository set HF_TOKEN or run `hf auth login`.",
        )
    if isinstance(err, RevisionNotFoundError):
        return ModelUnavailableError(f"The {what} {repo_id} has no such revision.", "Use the default branch.")
    if isinstance(err, LocalEntryNotFoundError):
        return ModelUnavailableError(
            f"The {what} {repo_id} could not be downloaded: the Hugging Face Hub was unreachable and it is not "
            f"in the local cache ({str(err).splitlines()[0]}).",
            "Check the network connection (or HF_ENDPOINT), or copy the model folder into checkpoints/.",
        )
    if isinstance(err, HfHubHTTPError):
        return ModelUnavailableError(
            f"The Hugging Face Hub refused the {what} {repo_id}: {err}".splitlines()[0],
            "Check the id, your token (HF_TOKEN) and that the licence is accepted, then retry.",
        )
    return ModelUnavailableError(f"Downloading the {what} {repo_id} failed: {err}", "Check the network and retry.")


def resolve_weights(
    ref: str,
    settings: Settings,
    *,
    what: str = "model",
    repo_id: str | None = None,
    pipeline: bool = True,
    skip_parts: tuple[str, ...] = (),
    progress: ProgressCallback | None = None,
    hf_cache_dir: str | os.PathLike | None = None,
    allow_download: bool = True,
) -> ResolvedWeights:
    """Find (or download) weights for `ref` in the fixed order explicit path, checkpoints/, HF cache, Hub.

    Args:
        ref: what the user gave: a path, a short id or a Hub repository id.
        settings: `checkpoints_dir`, `offline` and `hf_endpoint` are used.
        what: "model", "ControlNet" or "LoRA", for messages.
        repo_id: the Hub repository to fall back on (default: `ref` when it looks like owner/name).
        pipeline: True for a full diffusers pipeline (checks that every component is present).
        skip_parts: pipeline components that may be missing (text_encoder_3 when T5 is dropped).
        progress: `progress(done, total, message)` during a download.
        hf_cache_dir: the Hugging Face cache folder (default: huggingface_hub's, i.e. HF_HUB_CACHE).
        allow_download: False to stop after the local places.

    Raises:
        ModelUnavailableError: not found locally and offline / download not allowed / the Hub said no.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    def complete(folder: Path) -> bool:
        return not pipeline or not missing_pipeline_parts(folder, skip_parts)

    # 1. an explicit path
    explicit = Path(ref).expanduser()
    if explicit.exists():
        if explicit.is_dir() and pipeline and not complete(explicit):
            raise ModelUnavailableError(
                f"The {what} folder {explicit} is incomplete: missing "
                f"{', '.join(missing_pipeline_parts(explicit, skip_parts))}.",
                "Save it again with save_pretrained, or download it again with `python -m core download`.",
            )
        return ResolvedWeights(explicit.resolve(), "path")
    looks_like_path = ref.startswith((".", "/", "~")) or ref.count("/") > 1 or ref.endswith((".safetensors", ".bin"))
    if looks_like_path:
        raise ModelUnavailableError(f"The {what} path {ref} does not exist.", "Check the path.")

    # 2. checkpoints/
    for name in checkpoint_names(ref):
        candidate = settings.checkpoints_dir / name
        if candidate.exists() and complete(candidate):
            return ResolvedWeights(candidate.resolve(), "checkpoints")
        if candidate.exists():
            log.warning("Ignoring incomplete %s folder %s", what, candidate)

    repo = repo_id or _known_repo(ref)
    if repo is None:
        raise ModelUnavailableError(
            f"The {what} {ref!r} is neither a path, nor in {settings.checkpoints_dir}, nor a Hub id.",
            "Give a folder, a file or a Hub repository id (owner/name).",
        )
    patterns = list(PIPELINE_PATTERNS if pipeline else COMPONENT_PATTERNS)
    ignore = list(T5_PATTERNS) if "text_encoder_3" in skip_parts else None
    common = dict(
        repo_id=repo,
        cache_dir=hf_cache_dir,
        allow_patterns=patterns,
        ignore_patterns=ignore,
        endpoint=settings.hf_endpoint or None,
    )

    # 3. the Hugging Face cache
    try:
        cached = Path(snapshot_download(**common, local_files_only=True))
        if complete(cached):
            return ResolvedWeights(cached, "hf-cache", repo)
        log.info("The cached snapshot of %s is incomplete; it will be downloaded again.", repo)
    except LocalEntryNotFoundError:
        log.debug("%s is not in the Hugging Face cache; next: download.", repo)

    # 4. download (a shared server downloads only when its operator allowed it)
    policy = settings.model_policy
    allow_download = allow_download and (policy is None or policy.allow_downloads)
    if _hub_offline(settings) or not allow_download:
        gated = (
            f" {repo} is gated: accept its licence at https://huggingface.co/{repo} and log in "
            f"(`hf auth login` or HF_TOKEN, token from {HF_TOKENS_URL}) before downloading."
            if repo in GATED_REPOS
            else ""
        )
        raise ModelUnavailableError(
            f"The {what} {ref} is not on this machine (not a path, not in {settings.checkpoints_dir}, "
            "not in the Hugging Face cache) and offline mode is on."
            if _hub_offline(settings)
            else f"The {what} {ref} is not on this machine.",
            f"Download it first.{gated} Run `{download_command(ref, what)}` with network access, or put a "
            f"diffusers folder at {settings.checkpoints_dir / checkpoint_names(ref)[0]}.",
        )
    log.info("Downloading %s %s from the Hugging Face Hub", what, repo)
    try:
        folder = Path(snapshot_download(**common, tqdm_class=_tqdm_class(progress, repo)))
    except Exception as err:  # huggingface_hub raises many types; each is translated to one message
        raise _translate_hub_error(err, repo, what) from err
    if not complete(folder):
        raise ModelUnavailableError(
            f"The downloaded {what} {repo} lacks {', '.join(missing_pipeline_parts(folder, skip_parts))}.",
            "It may not be a diffusers pipeline; use a repository in diffusers format.",
        )
    return ResolvedWeights(folder, "download", repo)
