"""Honest evaluation of cloud gap filling on real scenes: clear scenes, real cloud shapes, real baselines.

Cases come from an EcoMapper dataset: a clear month of a place (recorded cloud cover <= 2 %) is
the truth; a cloud mask is taken from another real scene that was partly cloudy; the filler sees
the clear scene with the masked pixels blanked and is scored inside the mask only. Baselines: the
nearest clear earlier month of the same place pasted in, and the mean colour of the clear pixels.
The dataset keeps no SCL layer, so the masks are the bright, colourless pixels of the cloudy
scenes (cloud tops in 8-bit true colour), kept only where their share agrees with the recorded
cloud cover within a factor of 1.5 (which rejects snow).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import BadRequestError
from core.generation.gapfill import (
    GapFillCase,
    evaluate_gap_filling,
    fill_clouds,
    fill_from_earlier,
    fill_with_mean,
)

CLEAR_MAX = 0.02  # recorded cloud cover of a truth scene
EARLIER_CLEAR_MAX = 0.10  # recorded cloud cover of the earlier month used to fill
MAX_EARLIER_GAP_MONTHS = 12
MASK_COVER_RANGE = (0.10, 0.60)  # cloudy enough to be a test, clear enough that a fill is meaningful
MASK_AGREEMENT = 1.5  # bright-pixel share vs recorded cloud cover, at most this factor apart
# A cloud pixel in Sentinel-2 TCI: every channel bright, little colour.
CLOUD_MIN_VALUE = 170
CLOUD_MAX_SPREAD = 40


def cloud_mask_from_rgb(image: np.ndarray) -> np.ndarray:
    """Bright, colourless pixels of an 8-bit true-colour scene (True = cloud)."""
    low = image.min(axis=2)
    spread = image.max(axis=2).astype(np.int16) - low
    return (low >= CLOUD_MIN_VALUE) & (spread <= CLOUD_MAX_SPREAD)


def _resized(image: np.ndarray, size_px: int) -> np.ndarray:
    from PIL import Image

    if image.shape[:2] == (size_px, size_px):
        return image
    return np.asarray(Image.fromarray(image).resize((size_px, size_px), Image.Resampling.LANCZOS))


def _resized_mask(mask: np.ndarray, size_px: int) -> np.ndarray:
    from PIL import Image

    if mask.shape == (size_px, size_px):
        return mask
    return np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((size_px, size_px), Image.NEAREST)) > 0


def nearest_clear_earlier(dataset: Any, sample: Any) -> Any | None:
    """The latest earlier month of the same place with recorded cloud cover <= EARLIER_CLEAR_MAX."""
    earlier = [
        s
        for s in dataset
        if s.location_id == sample.location_id
        and s.month < sample.month
        and (sample.month - s.month) <= MAX_EARLIER_GAP_MONTHS
        and s.metadata.cloud_fraction <= EARLIER_CLEAR_MAX
    ]
    return max(earlier, key=lambda s: s.month) if earlier else None


def build_cases(dataset: Any, max_cases: int = 12, size_px: int = 512) -> list[GapFillCase]:
    """Clear scenes with a clear earlier month, each with the cloud mask of another real scene (round robin)."""
    masks = []
    for sample in dataset:
        recorded = sample.metadata.cloud_fraction
        if not MASK_COVER_RANGE[0] <= recorded <= MASK_COVER_RANGE[1]:
            continue
        mask = cloud_mask_from_rgb(sample.image)
        share = float(mask.mean())
        if share > 0 and 1 / MASK_AGREEMENT <= share / recorded <= MASK_AGREEMENT:
            masks.append((sample.sample_id, _resized_mask(mask, size_px)))
    truths = [
        (sample, earlier)
        for sample in dataset
        if sample.metadata.cloud_fraction <= CLEAR_MAX and (earlier := nearest_clear_earlier(dataset, sample))
    ]
    if not masks or not truths:
        raise BadRequestError(
            f"The dataset has {len(truths)} clear scenes with a clear earlier month and {len(masks)} usable cloud "
            "masks; both must be at least 1.",
            "Use an EcoMapper dataset with clear and partly cloudy months (e.g. the example dataset).",
        )
    # spread the cases over places: round robin over locations
    by_location: dict[str, list] = {}
    for pair in truths:
        by_location.setdefault(pair[0].location_id, []).append(pair)
    queues = [by_location[k] for k in sorted(by_location)]
    ordered = []
    while any(queues) and len(ordered) < max_cases:
        for queue in queues:
            if queue and len(ordered) < max_cases:
                ordered.append(queue.pop(0))
    cases = []
    for index, (sample, earlier) in enumerate(ordered):
        candidates = [m for m in masks if m[0] != sample.sample_id]
        mask_id, mask = candidates[index % len(candidates)]
        cases.append(
            GapFillCase(
                name=sample.sample_id,
                truth=_resized(sample.image, size_px),
                mask=mask,
                earlier=_resized(earlier.image, size_px),
                prompts=sample.prompts,
                mask_source=mask_id,
            )
        )
    return cases


def run_gap_filling_evaluation(
    data_dir: str | Path,
    engine: Any | None = None,
    *,
    max_cases: int = 12,
    size_px: int = 512,
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], Sequence[GapFillCase]]:
    """(table rows, cases): baselines always, SD3 inpainting when an engine is given."""
    from core.dataset.reader import read_dataset

    cases = build_cases(read_dataset(data_dir, check_pixels=True), max_cases=max_cases, size_px=size_px)
    fillers = {
        "nearest clear earlier month": lambda image, mask, earlier, _case: fill_from_earlier(image, mask, earlier),
        "mean of clear pixels": lambda image, mask, _earlier, _case: fill_with_mean(image, mask),
    }
    if engine is not None:
        label = f"SD3 inpainting ({engine.model_id}{', NOISE: test model' if engine.loaded.is_tiny else ''})"
        fillers[label] = lambda image, mask, _earlier, case: fill_clouds(
            image,
            mask,
            engine,
            case.prompts,
            seed=seed,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
        )
    return evaluate_gap_filling(cases, fillers), cases
