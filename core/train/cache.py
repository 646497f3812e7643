"""On-disk cache of VAE latent distributions and text embeddings, one file per image and per prompt pair.

The latent cache keeps the VAE posterior (mean and log-variance), not a sample, so a cached step
draws its latent from the same distribution with the same generator as an uncached step: same loss.
Text embeddings are cached only when asked (`cache_text_embeddings`): one SD3 prompt pair is
(77 + 256) x 4096 values, and a dropout preset gives up to 12 pairs per image, so at the paper's
2.37 M images they would need about 78 TB; by default they are recomputed in each step.
`estimate_cache` says what a run needs before it starts.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadRequestError
from core.io.files import atomic_write_bytes

log = logging.getLogger(__name__)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]


class FeatureCache:
    """Latent parameters per (image file, resolution, model) and embeddings per (prompts, model).

    Args:
        root: cache folder (created on demand).
        model_key: identifies the base model, so one folder can serve several models.
        resolution_px: training size the latents were computed at.
        max_sequence_length: T5 length the embeddings were computed with.
    """

    def __init__(self, root: Path, model_key: str, resolution_px: int, max_sequence_length: int) -> None:
        self.root = Path(root)
        self.model_key = model_key
        self.resolution_px = resolution_px
        self.max_sequence_length = max_sequence_length

    def latent_path(self, image_path: Path) -> Path:
        stat = Path(image_path).stat()
        key = _digest(Path(image_path).resolve(), stat.st_size, stat.st_mtime_ns, self.resolution_px, self.model_key)
        return self.root / "latents" / f"{key}.safetensors"

    def text_path(self, spatial: str, climate: str) -> Path:
        key = _digest(spatial, climate, self.max_sequence_length, self.model_key)
        return self.root / "text" / f"{key}.safetensors"

    @staticmethod
    def write(path: Path, tensors: dict[str, Any]) -> None:
        from safetensors.torch import save

        atomic_write_bytes(path, save({name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}))

    @staticmethod
    def read(path: Path) -> dict[str, Any]:
        from safetensors.torch import load_file

        if not path.is_file():
            raise BadRequestError(
                f"The feature cache entry {path} is missing.",
                "Delete the cache folder (or set cache_latents = false) and run again to rebuild it.",
            )
        return load_file(str(path))


# SD3's text sequence: CLIP's 77 tokens beside T5's (`max_sequence_length`), 4096 wide; the pooled one 2048.
CLIP_TOKENS = 77
SD3_TEXT_WIDTH = 4096
SD3_POOLED_WIDTH = 2048
LATENT_BYTES_PER_VALUE = 4  # the posterior is kept in float32
VAE_FACTOR = 8


@dataclass(frozen=True)
class CacheEstimate:
    """Disk a feature cache needs: latent entries (one per image) and text entries (one per prompt pair)."""

    latents: int
    latent_bytes: int
    prompt_pairs: int
    text_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.latent_bytes + self.text_bytes

    def describe(self) -> str:
        text = (
            f"{self.prompt_pairs} text embeddings ({_size(self.text_bytes)})"
            if self.prompt_pairs
            else "no text embeddings (recomputed in each step)"
        )
        return f"{_size(self.total_bytes)}: {self.latents} latents ({_size(self.latent_bytes)}) and {text}"


def _size(count: int) -> str:
    for unit, factor in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= factor:
            return f"{count / factor:.1f} {unit}"
    return f"{count / 1e3:.1f} kB"


def estimate_cache(
    images: int,
    prompt_pairs: int,
    resolution_px: int,
    latent_channels: int = 16,
    max_sequence_length: int = 256,
    text_bytes_per_value: int = 2,
) -> CacheEstimate:
    """The disk the feature cache of a run needs (0 prompt pairs: text embeddings not cached)."""
    side = resolution_px // VAE_FACTOR
    latent = 2 * latent_channels * side * side * LATENT_BYTES_PER_VALUE  # mean and log-variance
    pair = ((CLIP_TOKENS + max_sequence_length) * SD3_TEXT_WIDTH + SD3_POOLED_WIDTH) * text_bytes_per_value
    return CacheEstimate(images, images * latent, prompt_pairs, prompt_pairs * pair)


def fill_cache(
    cache: FeatureCache,
    image_examples: list[Any],
    text_examples: list[Any],
    encode_images: Any,
    encode_texts: Any,
    data: Any,
    batch_size: int = 8,
    progress: Any = None,
) -> tuple[int, int]:
    """Compute the missing latent and text entries of every example (once; reruns find them on disk).

    Args:
        cache: the cache.
        image_examples: `TrainingExample`s whose latents are needed (targets and control months).
        text_examples: `TrainingExample`s whose prompts are needed (the targets).
        encode_images: list of image paths -> latent parameters tensor (N, 2C, h, w).
        encode_texts: (spatial list, climate list) -> (prompt_embeds, pooled_prompt_embeds).
        data: the `DataConfig` (dropout probabilities give the prompt variants to encode).
        batch_size: how many images / prompts to encode at once.
        progress: optional callable(done, total, message).

    Returns:
        (latents written, embeddings written).
    """
    from core.train.batches import prompt_variants

    image_todo = [e.image_path for e in image_examples if not cache.latent_path(e.image_path).is_file()]
    pairs: dict[Path, tuple[str, str]] = {}
    for example in text_examples:
        for spatial, climate in prompt_variants(example.prompt_inputs, data):
            path = cache.text_path(spatial, climate)
            if path not in pairs and not path.is_file():
                pairs[path] = (spatial, climate)
    text_todo = list(pairs.items())
    total = len(image_todo) + len(text_todo)
    done = 0
    for start in range(0, len(image_todo), batch_size):
        chunk = image_todo[start : start + batch_size]
        parameters = encode_images(chunk)
        for path, params in zip(chunk, parameters, strict=True):
            cache.write(cache.latent_path(path), {"parameters": params})
        done += len(chunk)
        if progress:
            progress(done, total, "caching latents")
    for start in range(0, len(text_todo), batch_size):
        chunk = text_todo[start : start + batch_size]
        embeds, pooled = encode_texts([p[1][0] for p in chunk], [p[1][1] for p in chunk])
        for (path, _), embed, pool in zip(chunk, embeds, pooled, strict=True):
            cache.write(path, {"prompt_embeds": embed, "pooled_prompt_embeds": pool})
        done += len(chunk)
        if progress:
            progress(done, total, "caching text embeddings")
    log.info("feature cache %s: %d latents and %d embeddings computed", cache.root, len(image_todo), len(text_todo))
    return len(image_todo), len(text_todo)


def check_cache_disk(cache: FeatureCache, estimate: CacheEstimate) -> None:
    """Say the disk the cache needs before anything is written; refuse when the disk has less free.

    Raises:
        BadRequestError: the cache's disk has less free space than the estimate.
    """
    import shutil

    existing = cache.root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    log.warning("feature cache %s needs about %s (%s free)", cache.root, estimate.describe(), _size(free))
    if estimate.total_bytes > free:
        raise BadRequestError(
            f"The feature cache needs about {estimate.describe()}, more than the {_size(free)} free at {existing}.",
            "Set cache_dir to a larger disk, keep cache_text_embeddings = false, or set cache_latents = false.",
        )
