"""Deterministic micro-batches: which samples, prompts and control months each step uses.

Everything random about a step (sample order, prompt dropout, control month, noise) is derived
from (seed, micro-step, process), so a resumed run and a cached run see exactly the same batches
as an uninterrupted, uncached one.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.train.config import CONTROL_MODES


def derived_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (stable across processes and Python versions)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@dataclass(frozen=True)
class PlannedItem:
    """One slot of a micro-batch."""

    example_index: int
    spatial_prompt: str
    climate_prompt: str
    control_index: int | None = None
    # The control month's own captions (ControlNet, `control_caption = "control"`), else None.
    control_spatial_prompt: str | None = None
    control_climate_prompt: str | None = None


@dataclass(frozen=True)
class BatchPlan:
    """Maps (micro-step, process) onto samples: epochs are seeded permutations of the targets."""

    targets: tuple[int, ...]
    batch_size: int
    num_processes: int
    seed: int
    shuffle: bool = True  # False: the targets' own order every epoch (the original's unshuffled DataLoader)

    def epoch_of(self, micro_step: int) -> int:
        return (micro_step * self.batch_size * self.num_processes) // len(self.targets)

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.asarray(self.targets)
        rng = np.random.default_rng(derived_seed(self.seed, "epoch", epoch))
        return np.asarray(self.targets)[rng.permutation(len(self.targets))]

    def example_indices(self, micro_step: int, process_index: int) -> list[int]:
        """The example indices of one process's micro-batch."""
        first = (micro_step * self.num_processes + process_index) * self.batch_size
        result = []
        orders: dict[int, np.ndarray] = {}
        for position in range(first, first + self.batch_size):
            epoch, offset = divmod(position, len(self.targets))
            if epoch not in orders:
                orders[epoch] = self._order(epoch)
            result.append(int(orders[epoch][offset]))
        return result


def plan_micro_batch(
    plan: BatchPlan, examples: list[Any], micro_step: int, process_index: int, data: Any, mode: str
) -> list[PlannedItem]:
    """The items of one micro-batch: sample, its captions under the preset and, for ControlNet, a control month.

    ControlNet items also carry the captions of the control month (the original's ControlNet reads
    the control image's own caption).
    """
    from core.generation.prompts import caption_prompts

    items = []
    for slot, index in enumerate(plan.example_indices(micro_step, process_index)):
        rng = random.Random(derived_seed(plan.seed, "item", micro_step, process_index, slot))
        example = examples[index]
        prompts = caption_prompts(example.prompt_inputs, data.caption_preset, rng)
        control = rng.choice(example.control_indices) if mode in CONTROL_MODES else None
        control_prompts = None
        if control is not None and data.control_caption == "control":
            control_prompts = caption_prompts(examples[control].prompt_inputs, data.caption_preset, rng)
        items.append(
            PlannedItem(
                index,
                prompts.spatial,
                prompts.climate,
                control,
                control_prompts.spatial if control_prompts else None,
                control_prompts.climate if control_prompts else None,
            )
        )
    return items


def prompt_variants(prompt_inputs: Any, data: Any) -> list[tuple[str, str]]:
    """Every (spatial, climate) pair the caption preset can produce for one sample (for the text cache)."""
    from core.generation.prompts import caption_variants

    return [(p.spatial, p.climate) for p in caption_variants(prompt_inputs, data.caption_preset)]


def load_pixels(path: Any, resolution_px: int) -> Any:
    """An image file as a float tensor (3, H, W) in [-1, 1] at the training resolution."""
    import torch
    from PIL import Image

    from core.dataset.reader import load_rgb

    image = Image.fromarray(load_rgb(path))
    if image.size != (resolution_px, resolution_px):
        image = image.resize((resolution_px, resolution_px), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()
