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


@dataclass(frozen=True)
class BatchPlan:
    """Maps (micro-step, process) onto samples: epochs are seeded permutations of the targets."""

    targets: tuple[int, ...]
    batch_size: int
    num_processes: int
    seed: int

    def epoch_of(self, micro_step: int) -> int:
        return (micro_step * self.batch_size * self.num_processes) // len(self.targets)

    def _order(self, epoch: int) -> np.ndarray:
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
    """The items of one micro-batch: sample, its (dropped-out) prompts and, for ControlNet, a control month."""
    from core.prompts import build_prompts, dropout_prompts

    items = []
    for slot, index in enumerate(plan.example_indices(micro_step, process_index)):
        rng = random.Random(derived_seed(plan.seed, "item", micro_step, process_index, slot))
        example = examples[index]
        if data.date_dropout or data.location_dropout:
            prompts = dropout_prompts(
                example.prompt_inputs, rng, date_dropout=data.date_dropout, location_dropout=data.location_dropout
            )
        else:
            prompts = build_prompts(example.prompt_inputs)
        control = rng.choice(example.control_indices) if mode == "controlnet" else None
        items.append(PlannedItem(index, prompts.spatial, prompts.climate, control))
    return items


def prompt_variants(prompt_inputs: Any, data: Any) -> list[tuple[str, str]]:
    """Every (spatial, climate) pair the dropout can produce for one sample (for the text cache)."""
    from core.prompts import dropout_prompts

    variants = []
    date_choices = (False, True) if data.date_dropout > 0 else (True,)
    location_choices = (False, True) if data.location_dropout > 0 else (True,)
    for keep_date in date_choices:
        for keep_location in location_choices:
            # dropout_prompts draws date first, then location; a draw >= p keeps the part.
            draws = _FixedDraws([1.0 if keep_date else 0.0, 1.0 if keep_location else 0.0])
            prompts = dropout_prompts(
                prompt_inputs, draws, date_dropout=data.date_dropout, location_dropout=data.location_dropout
            )
            pair = (prompts.spatial, prompts.climate)
            if pair not in variants:
                variants.append(pair)
    return variants


class _FixedDraws:
    def __init__(self, values: list[float]) -> None:
        self._values = list(values)

    def random(self) -> float:
        return self._values.pop(0)


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
