"""DiffusionSat's UNet: SD 2.1's UNet plus one embedding per metadata scalar, summed into the time embedding.

Facts from github.com/samar-khanna/DiffusionSat (`SatUNet`): `metadata_embedding` is a ModuleList of
`num_metadata` TimestepEmbedding(320 -> 1280) (keys `metadata_embedding.{i}.linear_{1,2}.{weight,bias}`);
each scalar goes through the UNet's own sinusoidal `time_proj`, and every embedding is added to
the time embedding. The published checkpoints are a `unet/` folder saved by that class, so this
subclass of diffusers' `UNet2DConditionModel` loads them with no missing or unexpected key.
"""

from __future__ import annotations

import contextlib
import inspect

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.embeddings import TimestepEmbedding

# [lon, lat, GSD, cloud, year, month, day] (published), + [temperature, precipitation, radiation] (weather variant)
BASE_METADATA = 7
WEATHER_METADATA = 10



def unet_init_keys(input_class) -> set[str]:
    """The config keys of a `UNet2DConditionModel` subclass whose `__init__` forwards the parent's (diffusers
    reads them from `__init__`'s signature)."""
    keys = set(inspect.signature(input_class.__init__).parameters)
    if isinstance(input_class, type) and issubclass(input_class, UNet2DConditionModel):
        keys |= set(inspect.signature(UNet2DConditionModel.__init__).parameters)
    return keys

class DiffusionSatUNet(UNet2DConditionModel):
    """`UNet2DConditionModel` with DiffusionSat's metadata embeddings.

    Args:
        use_metadata: add the metadata embeddings (the published checkpoints: True).
        num_metadata: 7 for the published models, 10 for the weather variant.
        **unet_config: the usual `UNet2DConditionModel` configuration (SD 2.1's for the published ones).

    The metadata reaches `forward` either as the `metadata` argument (batch x num_metadata, already
    normalised) or, inside `with unet.metadata_for_guidance(cond, uncond):`, from that context; the
    latter lets diffusers' stock pipelines run it, since they batch [unconditional, conditional].
    """

    def __init__(self, use_metadata: bool = True, num_metadata: int = BASE_METADATA, **unet_config) -> None:
        super().__init__(**unet_config)
        self.register_to_config(use_metadata=use_metadata, num_metadata=num_metadata)
        time_input_dim = self.time_proj.num_channels
        time_embed_dim = self.time_embedding.linear_2.out_features
        self.metadata_embedding = (
            torch.nn.ModuleList(TimestepEmbedding(time_input_dim, time_embed_dim) for _ in range(num_metadata))
            if use_metadata
            else None
        )
        self._metadata: torch.Tensor | None = None
        self._guidance_metadata: tuple[torch.Tensor, torch.Tensor] | None = None

    _get_init_keys = staticmethod(unet_init_keys)

    @contextlib.contextmanager
    def metadata_for_guidance(self, cond: torch.Tensor, uncond: torch.Tensor):
        """Within the block, forward uses `cond` (batch B) or [uncond, cond] (batch 2B, guidance)."""
        self._guidance_metadata = (cond, uncond)
        try:
            yield self
        finally:
            self._guidance_metadata = None

    def _metadata_for(self, batch: int) -> torch.Tensor:
        if self._metadata is not None:
            return self._metadata
        if self._guidance_metadata is None:
            raise ValueError("DiffusionSatUNet needs metadata (batch x num_metadata) or metadata_for_guidance().")
        cond, uncond = self._guidance_metadata
        if batch == cond.shape[0]:
            return cond
        if batch == 2 * cond.shape[0]:
            return torch.cat([uncond, cond])  # diffusers' order: negative first
        raise ValueError(f"Batch {batch} does not match the metadata's {cond.shape[0]} rows (or twice that).")

    def metadata_embed(self, metadata: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The sum of the per-scalar embeddings, batch x time_embed_dim."""
        n = self.config.num_metadata
        if metadata.ndim != 2 or metadata.shape[1] != n:
            raise ValueError(f"Metadata must be batch x {n}, got {tuple(metadata.shape)}.")
        projected = self.time_proj(metadata.reshape(-1)).reshape(metadata.shape[0], n, -1).to(dtype)
        return sum(embed(projected[:, i]) for i, embed in enumerate(self.metadata_embedding))

    def get_class_embed(self, sample: torch.Tensor, class_labels: torch.Tensor | None) -> torch.Tensor | None:
        # diffusers adds whatever this returns to the time embedding: the metadata joins there.
        class_emb = super().get_class_embed(sample=sample, class_labels=class_labels)
        if self.metadata_embedding is None:
            return class_emb
        metadata = self._metadata_for(sample.shape[0]).to(device=sample.device)
        md_emb = self.metadata_embed(metadata, sample.dtype)
        return md_emb if class_emb is None else class_emb + md_emb

    def forward(self, sample, timestep, encoder_hidden_states, *args, metadata: torch.Tensor | None = None, **kwargs):
        self._metadata = metadata
        try:
            return super().forward(sample, timestep, encoder_hidden_states, *args, **kwargs)
        finally:
            self._metadata = None
