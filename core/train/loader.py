"""A torch Dataset indexed by micro-step: decodes images (or reads cached features) in DataLoader workers."""

from __future__ import annotations

from typing import Any

from core.train.batches import BatchPlan, load_pixels, plan_micro_batch
from core.train.config import CONTROL_MODES


class MicroBatchDataset:
    """Item `m` is the whole micro-batch of micro-step `m` for one process (use `batch_size=None`).

    Each item is a dict with `items` (the `PlannedItem`s) and either `pixels` / `control_pixels`
    (float tensors in [-1, 1]) or, with a cache, `latent_params` / `control_params` and
    `prompt_embeds` / `pooled_prompt_embeds`.
    """

    def __init__(
        self,
        plan: BatchPlan,
        examples: list[Any],
        data: Any,
        mode: str,
        process_index: int,
        cache: Any = None,
        control_range: str = "-1-1",
        cache_text: bool = False,
    ) -> None:
        self.control_range = control_range
        self.cache_text = cache_text
        self.plan = plan
        self.examples = examples
        self.data = data
        self.mode = mode
        self.process_index = process_index
        self.cache = cache

    def __getitem__(self, micro_step: int) -> dict[str, Any]:
        import torch

        items = plan_micro_batch(self.plan, self.examples, micro_step, self.process_index, self.data, self.mode)
        batch: dict[str, Any] = {"micro_step": micro_step, "items": items}
        paths = [self.examples[item.example_index].image_path for item in items]
        control_paths = (
            [self.examples[item.control_index].image_path for item in items] if self.mode in CONTROL_MODES else []
        )
        size = self.data.resolution_px
        if self.cache is None:
            batch["pixels"] = torch.stack([load_pixels(p, size) for p in paths])
            if control_paths:
                batch["control_pixels"] = torch.stack([load_pixels(p, size) for p in control_paths])
            return batch
        batch["latent_params"] = torch.stack([self.cache.read(self.cache.latent_path(p))["parameters"] for p in paths])
        if control_paths and self.control_range == "0-1":
            # cached latents are of [-1, 1] images; a [0, 1] control image is encoded in the step
            batch["control_pixels"] = torch.stack([load_pixels(p, size) for p in control_paths])
        elif control_paths:
            batch["control_params"] = torch.stack(
                [self.cache.read(self.cache.latent_path(p))["parameters"] for p in control_paths]
            )
        if not self.cache_text:
            return batch  # text embeddings are recomputed in the step from the items' prompts
        texts = [self.cache.read(self.cache.text_path(i.spatial_prompt, i.climate_prompt)) for i in items]
        batch["prompt_embeds"] = torch.stack([t["prompt_embeds"] for t in texts])
        batch["pooled_prompt_embeds"] = torch.stack([t["pooled_prompt_embeds"] for t in texts])
        if items and items[0].control_spatial_prompt is not None:
            controls = [
                self.cache.read(self.cache.text_path(i.control_spatial_prompt, i.control_climate_prompt)) for i in items
            ]
            batch["control_prompt_embeds"] = torch.stack([t["prompt_embeds"] for t in controls])
            batch["control_pooled_prompt_embeds"] = torch.stack([t["pooled_prompt_embeds"] for t in controls])
        return batch
