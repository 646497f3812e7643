"""ZoomLDM's network facts: the NAIP model's configs, its β schedule and DINOv2 conditioning constants, and
the plain-torch "summarizer" ViT (the original's parameter names), shared by the backend and the checkpoint
converter."""

from __future__ import annotations

# configs/zoomldm_naip.yaml (fixture hub-configs/cvlab-stonybrook--ZoomLDM)
NAIP_UNET = dict(
    sample_size=64,
    in_channels=3,
    out_channels=3,
    block_out_channels=(192, 384, 576, 960),  # model_channels 192 x channel_mult 1,2,3,5
    layers_per_block=2,
    # attention_resolutions 8,4,2: every level but the first
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(192, 384, 576, 960),  # num_heads 1: one head as wide as the block
    cross_attention_dim=512,
)
NAIP_VQ = dict(
    in_channels=3,
    out_channels=3,
    down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3,
    block_out_channels=(128, 256, 512),
    layers_per_block=2,
    latent_channels=3,
    num_vq_embeddings=8192,
    vq_embed_dim=3,
    sample_size=256,
)
NAIP_SUMMARIZER = dict(input_channels=1024, hidden_channels=512, mlp_dim=2048, num_layers=12, num_heads=8,
                       output_channels=512, zoom_levels=4)  # fmt: skip
SCHEDULE = dict(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear", num_train_timesteps=1000)
FEATURE_TOKENS = 64  # an 8 x 8 grid; smaller grids are centred in it
BASE_PATCH_PX = 256  # one DINOv2 feature per 256 px base patch
DINO_INPUT_PX = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DINO_REPO = "facebook/dinov2-with-registers-large"


def _summarizer_class():
    from collections import OrderedDict

    import torch
    from torch import nn

    class EncoderBlock(nn.Module):
        """Pre-norm ViT block, named as torchvision's (ln_1, self_attention, ln_2, mlp.0 / mlp.3)."""

        def __init__(self, dim: int, heads: int, mlp_dim: int) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(dim, eps=1e-6)
            self.self_attention = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.ln_2 = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlp_dim, dim),
                                     nn.Dropout(0.0))  # fmt: skip

        def forward(self, x):
            y = self.ln_1(x)
            x = x + self.self_attention(y, y, y, need_weights=False)[0]
            return x + self.mlp(self.ln_2(x))

    class Encoder(nn.Module):
        def __init__(self, length: int, layers: int, dim: int, heads: int, mlp_dim: int) -> None:
            super().__init__()
            self.pos_embedding = nn.Parameter(torch.zeros(1, length, dim).normal_(std=0.02))
            blocks = OrderedDict((f"encoder_layer_{i}", EncoderBlock(dim, heads, mlp_dim)) for i in range(layers))
            self.layers = nn.Sequential(blocks)
            self.ln = nn.LayerNorm(dim, eps=1e-6)

        def forward(self, x):
            x = x + self.pos_embedding
            return self.ln(self.layers(x))

    class ZoomLDMSummarizer(nn.Module):
        """DINOv2 feature grid + zoom level -> the UNet's [B, 65, 512] context."""

        def __init__(self, input_channels, hidden_channels, mlp_dim, num_layers, num_heads, output_channels,
                     zoom_levels) -> None:  # fmt: skip
            super().__init__()
            self.mag_embedding = nn.Embedding(zoom_levels, hidden_channels)
            self.dim_reduce = nn.Linear(input_channels, hidden_channels)
            self.pad_token = nn.Parameter(torch.randn(1, 1, hidden_channels))
            self.encoder = Encoder(FEATURE_TOKENS + 1, num_layers, hidden_channels, num_heads, mlp_dim)
            self.final_proj = nn.Linear(hidden_channels, output_channels)
            self.layer_norm = nn.LayerNorm(output_channels)

        def tokens(self, grid):
            """[C, h, w] features -> [64, hidden]: an 8 x 8 grid as is, smaller ones centred among pad tokens."""
            channels, height, width = grid.shape
            count = height * width
            x = self.dim_reduce(grid.reshape(channels, count).T)
            if count == FEATURE_TOKENS:
                return x
            start = FEATURE_TOKENS // 2 - count // 2
            out = self.pad_token[0].expand(FEATURE_TOKENS, -1).clone()
            out[start : start + count] = x
            return out

        def forward(self, grids, zoom_levels):
            x = torch.stack([self.tokens(g) for g in grids])
            x = torch.cat([self.mag_embedding(zoom_levels)[:, None], x], dim=1)
            return self.layer_norm(self.final_proj(self.encoder(x)))

    return ZoomLDMSummarizer


def build_summarizer(**config):
    return _summarizer_class()(**config)
