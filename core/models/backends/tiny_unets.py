"""Tiny random Stable Diffusion 1.x/2.x-style parts (UNet, ControlNet, CLIP, VAE) for the peer backends' tests.

They run the real diffusers pipelines on a CPU in about a second and PRODUCE NOISE, like
`tiny-random` for SD3. Sizes keep SD's 8x VAE downsampling, so pixel sizes are multiples of 8.
"""

from __future__ import annotations

from core.models.tiny import build_tiny_clip_tokenizer, build_tiny_vae

CROSS_ATTENTION_DIM = 32
UNET_CHANNELS = (32, 64)


def build_tiny_text_encoder(tokenizer, seed: int = 0):
    """A tiny CLIPTextModel (SD 1.x/2.x read its last hidden state)."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=CROSS_ATTENTION_DIM,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=tokenizer.model_max_length,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    return CLIPTextModel(config).eval()


def tiny_unet_config(**changes) -> dict:
    """An SD-shaped UNet configuration at toy size (linear projections and v-prediction-ready, like SD 2.1)."""
    config = dict(
        sample_size=32,
        in_channels=4,
        out_channels=4,
        block_out_channels=UNET_CHANNELS,
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=CROSS_ATTENTION_DIM,
        attention_head_dim=(4, 8),
        norm_num_groups=8,
        use_linear_projection=True,
    )
    config.update(changes)
    return config


def build_tiny_unet(seed: int = 0, unet_class=None, **changes):
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    return (unet_class or UNet2DConditionModel)(**tiny_unet_config(**changes)).eval()


def build_tiny_sd_parts(seed: int = 0) -> dict:
    """tokenizer, text_encoder, vae (the parts every SD 1.x/2.x-style tiny pipeline shares)."""
    tokenizer = build_tiny_clip_tokenizer()
    return {
        "tokenizer": tokenizer,
        "text_encoder": build_tiny_text_encoder(tokenizer, seed + 1),
        "vae": build_tiny_vae(seed + 2),
    }


def build_tiny_controlnet(unet, seed: int = 0):
    """A ControlNetModel initialised from the tiny UNet (as diffusers' ControlNet training does)."""
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 32, 32))
    # from_unet zero-initialises the convolutions that carry the control image (as training starts);
    # give them random values so the tiny ControlNet visibly reads its layout (tests check that).
    with torch.no_grad():
        zero_convs = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]
        for conv in [controlnet.controlnet_cond_embedding.conv_out, *zero_convs]:
            conv.weight.normal_(0.0, 0.5)
    return controlnet.eval()
