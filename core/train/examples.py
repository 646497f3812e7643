"""Training examples from an EcoMapper dataset: image, prompt inputs and, for ControlNet, earlier months."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import BadRequestError, EcoMapperError
from core.train.config import CONTROL_MODES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingExample:
    """One month at one place, ready to be batched.

    Attributes:
        sample_id: "<location>@<YYYY-MM>", stable across runs (cache keys and logs use it).
        image_path: the PNG.
        prompt_inputs: `core.generation.prompts.PromptInputs` for the full and the dropped-out prompts.
        control_indices: indices (into the example list) of the same place 1..6 months earlier,
            nearest first; empty in LoRA mode.
    """

    sample_id: str
    image_path: Path
    prompt_inputs: Any
    control_indices: tuple[int, ...] = ()


def load_examples(config: Any) -> list[TrainingExample]:
    """Read the dataset of `config.data` and keep what can be trained on.

    Samples above `max_cloud_coverage` or without a country for the prompt are left out (logged).
    In ControlNet mode every kept month stays addressable as a control image, and the months that
    have another kept month of the same place `min_months_before`..`max_months_before` earlier get
    those as `control_indices` (only they are drawn as targets, see `target_indices`).

    Raises:
        BadRequestError: no sample is usable, with the reasons counted.
    """
    from core.dataset.reader import read_dataset

    data = config.data
    dataset = read_dataset(data.data_dir)
    reasons: dict[str, int] = {}
    for skipped in dataset.skipped:
        reasons[skipped.category] = reasons.get(skipped.category, 0) + 1
    kept: list[tuple[Any, Any]] = []
    for sample in dataset.samples:
        if sample.metadata.cloud_fraction > data.max_cloud_coverage:
            reasons["too cloudy"] = reasons.get("too cloudy", 0) + 1
            continue
        try:
            inputs = sample.prompt_inputs
        except EcoMapperError as err:
            reasons["no prompt"] = reasons.get("no prompt", 0) + 1
            log.info("left out %s: %s", sample.sample_id, err)
            continue
        kept.append((sample, inputs))
    index_of = {sample.sample_id: i for i, (sample, _) in enumerate(kept)}
    examples = []
    for sample, inputs in kept:
        controls: tuple[int, ...] = ()
        if config.mode in CONTROL_MODES:
            gaps = range(config.controlnet.min_months_before, config.controlnet.max_months_before + 1)
            found = (index_of.get(f"{sample.location_id}@{sample.month - gap}") for gap in gaps)
            controls = tuple(i for i in found if i is not None)
        examples.append(TrainingExample(sample.sample_id, sample.image_path, inputs, controls))
    if not target_indices(examples, config.mode):
        why = "no month has an earlier month of the same place" if examples else "no usable sample"
        raise BadRequestError(
            f"No usable training samples in {data.data_dir}: {why} (left out: {reasons or 'none found'}).",
            "Check the folder, raise data.max_cloud_coverage, or for ControlNet give several consecutive months "
            "per place.",
        )
    log.info("%d usable samples in %s (left out: %s)", len(examples), data.data_dir, reasons)
    return examples


def target_indices(examples: list[TrainingExample], mode: str, max_samples: int = 0) -> list[int]:
    """Indices of the examples drawn as training targets (ControlNet: those with a control month)."""
    indices = [i for i, example in enumerate(examples) if mode not in CONTROL_MODES or example.control_indices]
    return indices[:max_samples] if max_samples else indices
