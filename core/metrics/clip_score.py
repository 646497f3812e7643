"""CLIP score of a generated image against its spatial prompt (paper: CLIP ViT-B/16), via torchmetrics.

torchmetrics 1.9 expects `get_image_features` / `get_text_features` to return tensors; in
transformers 5 they return a `BaseModelOutputWithPooling` whose `pooler_output` holds the projected
embedding. `ClipFeatureAdapter` hands torchmetrics that tensor.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.metrics.weights import resolve_clip_dir


def _embedding(output) -> torch.Tensor:
    if isinstance(output, torch.Tensor):  # transformers 4
        return output
    pooled = getattr(output, "pooler_output", None)
    if pooled is None:
        raise ModelUnavailableError("The CLIP model returned no pooled embedding.", "Use a CLIPModel checkpoint.")
    return pooled


class ClipFeatureAdapter(nn.Module):
    """A CLIPModel whose feature methods return the projected embeddings as tensors."""

    def __init__(self, clip_model: nn.Module) -> None:
        super().__init__()
        self.clip = clip_model
        self.config = clip_model.config  # torchmetrics reads text_config.max_position_embeddings

    def get_image_features(self, pixel_values: torch.Tensor, **kwargs) -> torch.Tensor:
        return _embedding(self.clip.get_image_features(pixel_values=pixel_values, **kwargs))

    def get_text_features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs):
        return _embedding(self.clip.get_text_features(input_ids=input_ids, attention_mask=attention_mask, **kwargs))


class TruncatingProcessor:
    """A CLIP processor that truncates long prompts with the tokenizer, keeping the end-of-text token.

    torchmetrics cuts token ids past the position limit, which drops the end-of-text token that
    CLIP pools on; truncating in the tokenizer keeps it.
    """

    def __init__(self, processor, max_length: int) -> None:
        self.processor = processor
        self.max_length = max_length

    def __call__(self, *args, text=None, **kwargs):
        if text is not None:
            kwargs.setdefault("truncation", True)
            kwargs.setdefault("max_length", self.max_length)
        return self.processor(*args, text=text, **kwargs)


def load_clip(model_dir: Path):
    """(ClipFeatureAdapter, CLIPProcessor) from a folder saved with save_pretrained."""
    from transformers import CLIPModel, CLIPProcessor

    try:
        model = CLIPModel.from_pretrained(model_dir)
        processor = CLIPProcessor.from_pretrained(model_dir)
    except (OSError, ValueError) as err:
        raise ModelUnavailableError(f"Cannot load the CLIP model in {model_dir}: {err}.", "Download it again.") from err
    return ClipFeatureAdapter(model.eval()), processor


class ClipScoreMetric:
    """CLIP score of image and text embeddings (cosine, floored at 0), per image and averaged.

    `scale="cosine"` reports the cosine itself, as the EcoMapper paper (0.32-0.40); `"x100"`
    reports torchmetrics' 100 x cosine.

    Args:
        settings: where the model is looked for and the offline flag.
        model_dir: explicit folder of a CLIP model (default: openai/clip-vit-base-patch16, resolved).
        model: an already loaded (model, processor) pair (skips resolution; tests, reuse).
        device: torch device.
        download: allow downloading the model.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        model_dir: str | os.PathLike | None = None,
        *,
        model: tuple[nn.Module, object] | None = None,
        device: str = "cpu",
        download: bool = True,
        scale: str = "cosine",
    ) -> None:
        from torchmetrics.multimodal.clip_score import CLIPScore

        from core.metrics.conventions import CLIP_SCALES

        if scale not in CLIP_SCALES:
            raise BadRequestError(f"Unknown CLIP scale {scale!r}.", f"Use one of {', '.join(CLIP_SCALES)}.")
        self.scale = scale
        if model is None:
            if settings is None:
                raise BadRequestError("CLIP score needs settings to find its model.", "Pass settings.")
            model = load_clip(resolve_clip_dir(settings, model_dir, download=download))
        adapter, processor = model
        if not isinstance(adapter, ClipFeatureAdapter):
            adapter = ClipFeatureAdapter(adapter)
        if not isinstance(processor, TruncatingProcessor):
            max_length = int(getattr(adapter.config.text_config, "max_position_embeddings", 77))
            processor = TruncatingProcessor(processor, max_length)
        self.device = torch.device(device)
        self._pair = (adapter.to(self.device).eval(), processor)
        self._metric = CLIPScore(model_name_or_path=self._loader).to(self.device)

    def _loader(self):
        return self._pair

    @staticmethod
    def _as_tensors(images) -> list[torch.Tensor]:
        arrays = [images] if isinstance(images, np.ndarray) and images.ndim == 3 else list(images)
        return [torch.from_numpy(np.array(a, copy=True)).permute(2, 0, 1) for a in arrays]

    @torch.no_grad()
    def score(self, images, prompts: list[str]) -> np.ndarray:
        """CLIP score per (uint8 H x W x 3 image, prompt) pair."""
        from torchmetrics.functional.multimodal.clip_score import clip_score

        tensors = self._as_tensors(images)
        if len(tensors) != len(prompts):
            raise BadRequestError(f"{len(tensors)} images but {len(prompts)} prompts.", "Give one prompt per image.")
        from core.metrics.conventions import clip_on_scale

        x100 = np.array(
            [
                float(clip_score(t.to(self.device), p, model_name_or_path=self._loader))
                for t, p in zip(tensors, prompts, strict=False)
            ]
        )
        return clip_on_scale(x100, self.scale)

    @torch.no_grad()
    def update(self, images, prompts: list[str]) -> None:
        self._metric.update(self._as_tensors(images), list(prompts))

    def compute(self) -> float:
        from core.metrics.conventions import clip_on_scale

        return float(clip_on_scale(float(self._metric.compute()), self.scale))

    def reset(self) -> None:
        self._metric.reset()
