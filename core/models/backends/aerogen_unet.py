"""AeroGen's UNet and layout encoder, written from the paper and published facts (its code has no licence).

Facts (AeroGen, CVPR 2025; fixture hub-configs/SOURCES.md): SD 1.5's UNet plus
- in every attention of every transformer block, a second key/value projection (`to_k_control`,
  `to_v_control`); the cross-attention also attends the box tokens with them, sharing its query,
  and adds that result to its own before the output projection;
- after the input convolution, a mask cross-attention: per object, the features (projected to 320)
  attend the object's class embedding, pass a GEGLU feed-forward, are projected back and kept inside
  the object's polygon mask; the sum over objects is blended 0.2 / 0.8 with the input, for t >= 200;
- a layout encoder: each box's 4 corners (8 numbers, 64 x 64 mask units) as Fourier features
  (8 frequencies, temperature 100) beside the class's CLIP text embedding, MLP 896 -> 512 -> 512 -> 768;
  empty slots take learned null features. Up to 20 objects.
SD 1.5's UNet is 859,520,964 parameters; with the extras, 905,606,724.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention_processor import Attention
from torch import nn
from torch.nn import functional as F

from core.models.backends.diffusionsat_unet import unet_init_keys

MASK_ATTENTION_FROM_T = 200  # the mask cross-attention runs for timesteps >= 200
MASK_ATTENTION_STRENGTH = 0.2
CONTROL_SCALE = 1.0  # the box attention is added to the cross-attention at full weight
FOURIER_FREQS = 8
FOURIER_TEMPERATURE = 100.0
MASK_UNITS = 64  # box corners are given in 64 x 64 mask pixels

SD15_UNET = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768,
    attention_head_dim=8,
)


@dataclass(frozen=True)
class LayoutTensors:
    """A layout as the UNet reads it (batch B): box tokens, class embeddings and masks per object slot."""

    tokens: torch.Tensor  # [B, N, cross_attention_dim]
    categories: torch.Tensor  # [B, N, cross_attention_dim]
    masks: torch.Tensor  # [B, N, H, W] in 0/1 at the latent resolution

    @staticmethod
    def cat(first: LayoutTensors, second: LayoutTensors) -> LayoutTensors:
        return LayoutTensors(*(torch.cat([a, b]) for a, b in zip(
            (first.tokens, first.categories, first.masks), (second.tokens, second.categories, second.masks),
            strict=True)))  # fmt: skip


def _attend(q, k, v, heads: int):
    batch = q.shape[0]
    split = [t.reshape(batch, -1, heads, t.shape[-1] // heads).transpose(1, 2) for t in (q, k, v)]
    out = F.scaled_dot_product_attention(*split)
    return out.transpose(1, 2).reshape(batch, -1, heads * split[0].shape[-1])


class BoxAttnProcessor:
    """A cross-attention that also attends the UNet's current box tokens with its control projections."""

    def __init__(self, unet: AeroGenUNet) -> None:
        self._unet = [unet]  # a list: not a registered submodule of the attention

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **_):
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        query = attn.to_q(hidden_states)
        out = _attend(query, attn.to_k(context), attn.to_v(context), attn.heads)
        layout = self._unet[0].current_layout
        if layout is not None and encoder_hidden_states is not None:
            tokens = layout.tokens.to(query.dtype)
            out = out + CONTROL_SCALE * _attend(query, attn.to_k_control(tokens), attn.to_v_control(tokens), attn.heads)
        return attn.to_out[1](attn.to_out[0](out))


class MaskCrossAttention(nn.Module):
    """Per object: features attend its class embedding inside its mask; blended with the input."""

    def __init__(self, channels: int, context_dim: int, inner_dim: int = 320, heads: int = 8) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.GroupNorm(min(32, channels), channels, eps=1e-6)  # in the published layout, unused
        self.norm2 = nn.LayerNorm(inner_dim)
        self.norm3 = nn.LayerNorm(inner_dim)
        self.proj_in = nn.Linear(channels, inner_dim)
        self.to_q = nn.Linear(inner_dim, inner_dim, bias=False)
        self.to_k = nn.Linear(context_dim, inner_dim, bias=False)
        self.to_v = nn.Linear(context_dim, inner_dim, bias=False)
        self.to_out = nn.Linear(inner_dim, inner_dim)
        self.ff_in = nn.Linear(inner_dim, inner_dim * 8)  # GEGLU: 4 x inner, doubled for the gate
        self.ff_out = nn.Linear(inner_dim * 4, inner_dim)
        self.proj_out = nn.Linear(inner_dim, channels)

    def forward(self, x, categories, masks):
        batch, channels, height, width = x.shape
        objects = masks.shape[1]
        masks = F.interpolate(masks.to(x.dtype), size=(height, width), mode="nearest")
        tokens = x.flatten(2).transpose(1, 2).repeat_interleave(objects, dim=0)  # [(B N), HW, C]
        y = self.proj_in(tokens)
        context = categories.reshape(batch * objects, 1, -1).to(x.dtype)
        y = y + self.to_out(_attend(self.to_q(self.norm2(y)), self.to_k(context), self.to_v(context), self.heads))
        value, gate = self.ff_in(self.norm3(y)).chunk(2, dim=-1)
        y = y + self.ff_out(value * F.gelu(gate))
        y = self.proj_out(y).transpose(1, 2).reshape(batch, objects, channels, height, width)
        summed = (y * masks[:, :, None]).sum(dim=1)
        return MASK_ATTENTION_STRENGTH * summed + (1.0 - MASK_ATTENTION_STRENGTH) * x


class AeroGenUNet(UNet2DConditionModel):
    """SD 1.5's UNet with AeroGen's box attention and mask cross-attention.

    Inside `with unet.layout_for_guidance(cond, uncond):` (LayoutTensors), forward reads the layout
    (batch B, or [uncond, cond] for guidance), as diffusers' stock pipelines batch it.
    """

    def __init__(self, mask_inner_dim: int = 320, mask_heads: int = 8, **unet_config) -> None:
        super().__init__(**unet_config)
        self.register_to_config(mask_inner_dim=mask_inner_dim, mask_heads=mask_heads)
        for name, module in self.named_modules():
            if isinstance(module, Attention) and name.endswith(("attn1", "attn2")):
                inner = module.to_q.out_features
                module.to_k_control = nn.Linear(module.to_k.in_features, inner, bias=False)
                module.to_v_control = nn.Linear(module.to_v.in_features, inner, bias=False)
                if name.endswith("attn2"):
                    module.set_processor(BoxAttnProcessor(self))
        channels = self.config.block_out_channels[0]
        self.mask_attention = MaskCrossAttention(channels, self.config.cross_attention_dim, mask_inner_dim, mask_heads)
        self.conv_in.register_forward_hook(self._after_conv_in)
        self.current_layout: LayoutTensors | None = None
        self._guidance_layout: tuple[LayoutTensors, LayoutTensors] | None = None
        self._timestep: int = 0

    _get_init_keys = staticmethod(unet_init_keys)

    @contextlib.contextmanager
    def layout_for_guidance(self, cond: LayoutTensors, uncond: LayoutTensors):
        self._guidance_layout = (cond, uncond)
        try:
            yield self
        finally:
            self._guidance_layout = None

    def _after_conv_in(self, _module, _inputs, output):
        layout = self.current_layout
        if layout is None or self._timestep < MASK_ATTENTION_FROM_T:
            return output
        return self.mask_attention(output, layout.categories, layout.masks)

    def forward(self, sample, timestep, encoder_hidden_states, *args, **kwargs):
        layout = None
        if self._guidance_layout is not None:
            cond, uncond = self._guidance_layout
            layout = cond if sample.shape[0] == cond.tokens.shape[0] else LayoutTensors.cat(uncond, cond)
        step = timestep if torch.is_tensor(timestep) else torch.tensor(timestep)
        self.current_layout, self._timestep = layout, int(step.flatten()[0])
        try:
            return super().forward(sample, timestep, encoder_hidden_states, *args, **kwargs)
        finally:
            self.current_layout = None


class BoxEncoder(nn.Module):
    """Boxes (4 corners in 64 x 64 mask units) + class embeddings -> one token per object slot."""

    def __init__(self, text_dim: int = 768, out_dim: int = 768, hidden: int = 512, freqs: int = FOURIER_FREQS) -> None:
        super().__init__()
        self.freqs = freqs
        position_dim = 8 * freqs * 2
        self.null_positive_feature = nn.Parameter(torch.zeros(text_dim))
        self.null_position_feature = nn.Parameter(torch.zeros(position_dim))
        self.linears = nn.Sequential(nn.Linear(text_dim + position_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                     nn.SiLU(), nn.Linear(hidden, out_dim))  # fmt: skip

    def fourier(self, corners):
        bands = FOURIER_TEMPERATURE ** (torch.arange(self.freqs, dtype=torch.float32) / self.freqs)
        angles = corners[..., None, :] * bands[:, None].to(corners.device, corners.dtype)  # [B, N, freqs, 8]
        return torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(-2)  # [B, N, freqs * 16]

    def forward(self, corners, text, present):
        """corners [B, N, 8] (mask units), text [B, N, text_dim], present [B, N] (1 = an object)."""
        keep = present[..., None].to(text.dtype)
        position = self.fourier(corners) * keep + (1 - keep) * self.null_position_feature
        text = text * keep + (1 - keep) * self.null_positive_feature
        return self.linears(torch.cat([text, position], dim=-1))
