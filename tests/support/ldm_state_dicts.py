"""Synthetic state dicts in the original LDM layout (CompVis `openaimodel.UNetModel`, `VQModel`), for
checkpoint-conversion tests: the key names and shapes the original modules register, random values.

Written from the original module structure (ResBlock in/emb/out layers, SpatialTransformer with a
1x1-conv proj_in, GEGLU feed-forward; the VQ encoder/decoder of `ldm.modules.diffusionmodules.model`).
"""

from __future__ import annotations

from collections.abc import Iterator

Shape = tuple[int, ...]


def _res_block(prefix: str, ch_in: int, ch_out: int, emb: int) -> Iterator[tuple[str, Shape]]:
    yield from ((f"{prefix}.in_layers.0.{p}", (ch_in,)) for p in ("weight", "bias"))
    yield f"{prefix}.in_layers.2.weight", (ch_out, ch_in, 3, 3)
    yield f"{prefix}.in_layers.2.bias", (ch_out,)
    yield f"{prefix}.emb_layers.1.weight", (ch_out, emb)
    yield f"{prefix}.emb_layers.1.bias", (ch_out,)
    yield from ((f"{prefix}.out_layers.0.{p}", (ch_out,)) for p in ("weight", "bias"))
    yield f"{prefix}.out_layers.3.weight", (ch_out, ch_out, 3, 3)
    yield f"{prefix}.out_layers.3.bias", (ch_out,)
    if ch_in != ch_out:
        yield f"{prefix}.skip_connection.weight", (ch_out, ch_in, 1, 1)
        yield f"{prefix}.skip_connection.bias", (ch_out,)


def _transformer(prefix: str, ch: int, context: int, control: bool = False) -> Iterator[tuple[str, Shape]]:
    """A SpatialTransformer; `control`: AeroGen's second key / value projections in every attention."""
    yield from ((f"{prefix}.norm.{p}", (ch,)) for p in ("weight", "bias"))
    yield f"{prefix}.proj_in.weight", (ch, ch, 1, 1)
    yield f"{prefix}.proj_in.bias", (ch,)
    block = f"{prefix}.transformer_blocks.0"
    for attn, kv in (("attn1", ch), ("attn2", context)):
        yield f"{block}.{attn}.to_q.weight", (ch, ch)
        yield f"{block}.{attn}.to_k.weight", (ch, kv)
        yield f"{block}.{attn}.to_v.weight", (ch, kv)
        yield f"{block}.{attn}.to_out.0.weight", (ch, ch)
        yield f"{block}.{attn}.to_out.0.bias", (ch,)
        if control:
            yield f"{block}.{attn}.to_k_control.weight", (ch, kv)
            yield f"{block}.{attn}.to_v_control.weight", (ch, kv)
    yield f"{block}.ff.net.0.proj.weight", (8 * ch, ch)
    yield f"{block}.ff.net.0.proj.bias", (8 * ch,)
    yield f"{block}.ff.net.2.weight", (ch, 4 * ch)
    yield f"{block}.ff.net.2.bias", (ch,)
    for norm in ("norm1", "norm2", "norm3"):
        yield from ((f"{block}.{norm}.{p}", (ch,)) for p in ("weight", "bias"))
    yield f"{prefix}.proj_out.weight", (ch, ch, 1, 1)
    yield f"{prefix}.proj_out.bias", (ch,)


def ldm_unet_shapes(model_channels, channel_mult, attention_ds, context_dim, in_ch=3, out_ch=3, num_res_blocks=2,
                    control=False):  # fmt: skip
    """{key: shape} of an LDM UNetModel (use_spatial_transformer, transformer_depth 1), without prefix.

    `control`: AeroGen's UNet (to_k_control / to_v_control in every attention; its mask block is separate).
    """
    mc, emb = model_channels, 4 * model_channels
    keys: list[tuple[str, Shape]] = [
        ("time_embed.0.weight", (emb, mc)),
        ("time_embed.0.bias", (emb,)),
        ("time_embed.2.weight", (emb, emb)),
        ("time_embed.2.bias", (emb,)),
        ("input_blocks.0.0.weight", (mc, in_ch, 3, 3)),
        ("input_blocks.0.0.bias", (mc,)),
    ]
    chans, ch, ds, index = [mc], mc, 1, 1
    for level, mult in enumerate(channel_mult):
        for _ in range(num_res_blocks):
            keys += _res_block(f"input_blocks.{index}.0", ch, mult * mc, emb)
            ch = mult * mc
            if ds in attention_ds:
                keys += _transformer(f"input_blocks.{index}.1", ch, context_dim, control)
            chans.append(ch)
            index += 1
        if level != len(channel_mult) - 1:
            keys += [(f"input_blocks.{index}.0.op.weight", (ch, ch, 3, 3)), (f"input_blocks.{index}.0.op.bias", (ch,))]
            chans.append(ch)
            index, ds = index + 1, ds * 2
    keys += [
        *_res_block("middle_block.0", ch, ch, emb),
        *_transformer("middle_block.1", ch, context_dim, control),
        *_res_block("middle_block.2", ch, ch, emb),
    ]
    index = 0
    for level, mult in reversed(list(enumerate(channel_mult))):
        for block in range(num_res_blocks + 1):
            keys += _res_block(f"output_blocks.{index}.0", ch + chans.pop(), mc * mult, emb)
            ch, layer = mc * mult, 1
            if ds in attention_ds:
                keys += _transformer(f"output_blocks.{index}.1", ch, context_dim, control)
                layer = 2
            if level and block == num_res_blocks:
                keys += [
                    (f"output_blocks.{index}.{layer}.conv.weight", (ch, ch, 3, 3)),
                    (f"output_blocks.{index}.{layer}.conv.bias", (ch,)),
                ]
                ds //= 2
            index += 1
    keys += [
        ("out.0.weight", (mc,)),
        ("out.0.bias", (mc,)),
        ("out.2.weight", (out_ch, mc, 3, 3)),
        ("out.2.bias", (out_ch,)),
    ]
    return dict(keys)


def aerogen_extra_shapes(channels, inner, context_dim, text_dim, hidden, out_dim, freqs=8) -> dict[str, Shape]:
    """AeroGen's parts beside the UNet: `model.diffusion_model.maskcrossattention.*` (GroupNorm + 2 LayerNorms,
    proj_in, a cross-attention without control, a GEGLU feed-forward, proj_out) and `condition_tokenizer.*` (the
    box encoder: an MLP over class embedding + Fourier features of 8 corner numbers, two null features)."""
    mask = "model.diffusion_model.maskcrossattention"
    position = freqs * 2 * 8
    keys: list[tuple[str, Shape]] = [
        *((f"{mask}.norm1.{p}", (channels,)) for p in ("weight", "bias")),
        *((f"{mask}.{n}.{p}", (inner,)) for n in ("norm2", "norm3") for p in ("weight", "bias")),
        (f"{mask}.proj_in.weight", (inner, channels)), (f"{mask}.proj_in.bias", (inner,)),
        (f"{mask}.crossattn.to_q.weight", (inner, inner)), (f"{mask}.crossattn.to_k.weight", (inner, context_dim)),
        (f"{mask}.crossattn.to_v.weight", (inner, context_dim)), (f"{mask}.crossattn.to_out.0.weight", (inner, inner)),
        (f"{mask}.crossattn.to_out.0.bias", (inner,)),
        (f"{mask}.ffn.net.0.proj.weight", (8 * inner, inner)), (f"{mask}.ffn.net.0.proj.bias", (8 * inner,)),
        (f"{mask}.ffn.net.2.weight", (inner, 4 * inner)), (f"{mask}.ffn.net.2.bias", (inner,)),
        (f"{mask}.proj_out.weight", (channels, inner)), (f"{mask}.proj_out.bias", (channels,)),
        ("condition_tokenizer.linears.0.weight", (hidden, text_dim + position)),
        ("condition_tokenizer.linears.0.bias", (hidden,)),
        ("condition_tokenizer.linears.2.weight", (hidden, hidden)), ("condition_tokenizer.linears.2.bias", (hidden,)),
        ("condition_tokenizer.linears.4.weight", (out_dim, hidden)), ("condition_tokenizer.linears.4.bias", (out_dim,)),
        ("condition_tokenizer.null_text_feature", (text_dim,)),
        ("condition_tokenizer.null_position_feature", (position,)),
    ]  # fmt: skip
    return dict(keys)


def _vq_res(prefix: str, ch_in: int, ch_out: int) -> Iterator[tuple[str, Shape]]:
    yield from ((f"{prefix}.norm1.{p}", (ch_in,)) for p in ("weight", "bias"))
    yield f"{prefix}.conv1.weight", (ch_out, ch_in, 3, 3)
    yield f"{prefix}.conv1.bias", (ch_out,)
    yield from ((f"{prefix}.norm2.{p}", (ch_out,)) for p in ("weight", "bias"))
    yield f"{prefix}.conv2.weight", (ch_out, ch_out, 3, 3)
    yield f"{prefix}.conv2.bias", (ch_out,)
    if ch_in != ch_out:
        yield f"{prefix}.nin_shortcut.weight", (ch_out, ch_in, 1, 1)
        yield f"{prefix}.nin_shortcut.bias", (ch_out,)


def _vq_mid(prefix: str, ch: int) -> Iterator[tuple[str, Shape]]:
    yield from _vq_res(f"{prefix}.mid.block_1", ch, ch)
    yield from ((f"{prefix}.mid.attn_1.norm.{p}", (ch,)) for p in ("weight", "bias"))
    for conv in ("q", "k", "v", "proj_out"):
        yield f"{prefix}.mid.attn_1.{conv}.weight", (ch, ch, 1, 1)
        yield f"{prefix}.mid.attn_1.{conv}.bias", (ch,)
    yield from _vq_res(f"{prefix}.mid.block_2", ch, ch)


def ldm_vq_shapes(ch, ch_mult, z_channels, n_embed, in_ch=3, num_res_blocks=2, kl=False):
    """{key: shape} of an LDM VQModel (f = 2^(len(ch_mult)-1), no attention outside the middle), no prefix.

    With `kl`, the KL autoencoder instead (double_z: the encoder writes mean and log-variance; no codebook).
    """
    moments = 2 * z_channels if kl else z_channels
    keys: list[tuple[str, Shape]] = [("encoder.conv_in.weight", (ch, in_ch, 3, 3)), ("encoder.conv_in.bias", (ch,))]
    block_in = ch
    for level, mult in enumerate(ch_mult):
        for block in range(num_res_blocks):
            keys += _vq_res(f"encoder.down.{level}.block.{block}", block_in, ch * mult)
            block_in = ch * mult
        if level != len(ch_mult) - 1:
            keys += [
                (f"encoder.down.{level}.downsample.conv.weight", (block_in, block_in, 3, 3)),
                (f"encoder.down.{level}.downsample.conv.bias", (block_in,)),
            ]
    keys += [
        *_vq_mid("encoder", block_in),
        ("encoder.norm_out.weight", (block_in,)),
        ("encoder.norm_out.bias", (block_in,)),
        ("encoder.conv_out.weight", (moments, block_in, 3, 3)),
        ("encoder.conv_out.bias", (moments,)),
    ]
    top = ch * ch_mult[-1]
    keys += [
        ("decoder.conv_in.weight", (top, z_channels, 3, 3)),
        ("decoder.conv_in.bias", (top,)),
        *_vq_mid("decoder", top),
    ]
    block_in = top
    for level in reversed(range(len(ch_mult))):
        for block in range(num_res_blocks + 1):
            keys += _vq_res(f"decoder.up.{level}.block.{block}", block_in, ch * ch_mult[level])
            block_in = ch * ch_mult[level]
        if level != 0:
            keys += [
                (f"decoder.up.{level}.upsample.conv.weight", (block_in, block_in, 3, 3)),
                (f"decoder.up.{level}.upsample.conv.bias", (block_in,)),
            ]
    keys += [
        ("decoder.norm_out.weight", (block_in,)),
        ("decoder.norm_out.bias", (block_in,)),
        ("decoder.conv_out.weight", (in_ch, block_in, 3, 3)),
        ("decoder.conv_out.bias", (in_ch,)),
        ("quant_conv.weight", (moments, moments, 1, 1)),
        ("quant_conv.bias", (moments,)),
        ("post_quant_conv.weight", (z_channels, z_channels, 1, 1)),
        ("post_quant_conv.bias", (z_channels,)),
    ]
    if not kl:
        keys.append(("quantize.embedding.weight", (n_embed, z_channels)))
    return dict(keys)


def random_state(shapes: dict[str, Shape], prefix: str = "", seed: int = 0) -> dict:
    import torch

    generator = torch.Generator().manual_seed(seed)
    return {prefix + key: torch.randn(shape, generator=generator) for key, shape in shapes.items()}
