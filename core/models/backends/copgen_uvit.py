"""COP-GEN's network: a U-ViT over the tokens of every modality's latent, one timestep token per modality.

Written from COP-GEN's description and its Apache-2.0 code (github miquel-espinosa/COP-GEN,
`libs/copgen_multi_post_ln.py`): post-norm transformer blocks, long skips from the first half to the
second, image latents in 2 x 2 patches, scalars (lat/lon, date) as one token per number. Parameter
names follow the original, so its `nnet_ema.pth` state dict loads strictly. Modalities are listed
in the order the original's config sorts them (alphabetically): the token order depends on it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:  # read, never built, here
    from core.models.backends.copgen import Modality


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, cosines first (as the U-ViT family writes it)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    args = timesteps[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = False) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads, dim // self.num_heads).permute(2, 0, 3, 1, 4)
        out = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(out.transpose(1, 2).reshape(batch, length, dim))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Post-norm block; with `skip`, the long skip is concatenated, projected and normalised first."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, qkv_bias: bool, skip: bool = False) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim) if skip else None
        self.norm2 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm3 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.skip_linear = nn.Linear(2 * dim, dim) if skip else None

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        if self.skip_linear is not None:
            x = self.norm1(self.skip_linear(torch.cat([x, skip], dim=-1)))
        x = self.norm2(x + self.attn(x))
        return self.norm3(x + self.mlp(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, in_chans: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class CopGenUViT(nn.Module):
    """The COP-GEN network: `forward(latents, timesteps)` -> noise predictions, one per modality, same shapes."""

    def __init__(
        self,
        modalities: tuple[Modality, ...],
        embed_dim: int = 1024,
        depth: int = 20,
        num_heads: int = 16,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = False,
    ) -> None:
        super().__init__()
        self.modalities = modalities
        self.embed_dim = embed_dim
        self.patch_embeds = nn.ModuleList(PatchEmbed(m.patch, m.latent_channels, embed_dim) for m in modalities)
        # the original's time_img_embeds are identities (mlp_time_embed=False): no parameters
        num_tokens = len(modalities) + sum(m.num_tokens for m in modalities)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, embed_dim))
        self.in_blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio, qkv_bias) for _ in range(depth // 2))
        self.mid_block = Block(embed_dim, num_heads, mlp_ratio, qkv_bias)
        self.out_blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, skip=True) for _ in range(depth // 2)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.decoder_preds = nn.ModuleList(nn.Linear(embed_dim, m.patch**2 * m.latent_channels) for m in modalities)

    @property
    def num_tokens(self) -> int:
        return self.pos_embed.shape[1]

    def forward(self, latents: list[torch.Tensor], timesteps: list[torch.Tensor]) -> list[torch.Tensor]:
        dtype = self.pos_embed.dtype  # half-precision weights take half-precision time tokens
        time_tokens = [timestep_embedding(t, self.embed_dim).to(dtype)[:, None] for t in timesteps]
        tokens = [embed(z) for embed, z in zip(self.patch_embeds, latents, strict=True)]
        x = torch.cat([*time_tokens, *tokens], dim=1) + self.pos_embed
        skips = []
        for block in self.in_blocks:
            x = block(x)
            skips.append(x)
        x = self.mid_block(x)
        for block in self.out_blocks:
            x = block(x, skips.pop())
        x = self.norm(x)
        counts = [1] * len(self.modalities) + [m.num_tokens for m in self.modalities]
        parts = x.split(counts, dim=1)[len(self.modalities) :]
        heads = zip(self.modalities, self.decoder_preds, parts, strict=True)
        return [self._unpatch(m, head(part)) for m, head, part in heads]

    @staticmethod
    def _unpatch(modality: Modality, out: torch.Tensor) -> torch.Tensor:
        batch = out.shape[0]
        if modality.kind != "image":
            return out.reshape(batch, 1, 1, modality.num_tokens)
        side, patch, channels = modality.latent_px // modality.patch, modality.patch, modality.latent_channels
        out = out.reshape(batch, side, side, patch, patch, channels)  # tokens hold (p1 p2 C)
        return out.permute(0, 5, 1, 3, 2, 4).reshape(batch, channels, side * patch, side * patch)
