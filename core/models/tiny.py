"""`tiny-random`: a tiny, randomly initialised SD3 (and SD3 ControlNet) built in code, tokenizers included.

It runs the whole real diffusers pipeline (three text encoders, flow-matching transformer, VAE,
ControlNet) on a CPU in about a second, with no download. Its weights are random, so IT PRODUCES
NOISE, not satellite images: it exists for tests and smoke runs, and says so wherever it is listed.

Shapes mirror SD3 at a small scale: VAE downsampling 8x and transformer patch 2 (so sizes must be
multiples of 16, as with the real model), the two CLIP encoders' hidden states concatenated to
the T5 width (the joint attention dimension), their projections concatenated to the pooled width.
"""

from __future__ import annotations

import copy
import itertools
import string
from collections import Counter

from core.generation.prompts import MONTH_NAMES, PRECIP_WORDS, SOLAR_WORDS, TEMP_WORDS
from core.sources.land_cover_classes import LAND_COVER_CLASSES

TINY_DESCRIPTION = "tiny random SD3 for tests and smoke runs: produces noise, not satellite images"

# Sizes of the tiny model.
CLIP_HIDDEN = 16  # each CLIP; concatenated = T5_D_MODEL
CLIP_PROJECTION = 32  # each CLIP; concatenated = POOLED_DIM
T5_D_MODEL = 32
POOLED_DIM = 2 * CLIP_PROJECTION
CLIP_MAX_LENGTH = 77  # the SD3 pipeline pads CLIP input to the tokenizer's model_max_length
VAE_CHANNELS = (8, 8, 8, 8)  # four levels: 8x downsampling, as SD3's VAE
LATENT_CHANNELS = 4
# SD3's latent width: diffusers' SD3 inpainting pipeline accepts only 16 (or 33) transformer input channels,
# so an inpainting-capable tiny model is built with `latent_channels=INPAINT_LATENT_CHANNELS`.
INPAINT_LATENT_CHANNELS = 16
PATCH_SIZE = 2
SAMPLE_SIZE = 64  # latent size of the default 512 px image
POS_EMBED_MAX_SIZE = 64  # patches per side: allows up to 1024 px
TRANSFORMER_LAYERS = 2
CONTROLNET_LAYERS = 1

_SPECIAL_CLIP = ("<|startoftext|>", "<|endoftext|>")
_SPECIAL_T5 = ("<pad>", "</s>", "<unk>")


def _prompt_words() -> list[str]:
    """Words our prompts use, so both tokenizers see words rather than single characters."""
    text = " ".join(
        [
            "a satellite image of in on very cloudy partially",
            "The average temperature over the last month was C. with an average precipitation mm,",
            "and an average daily solar radiation W/m2. weather",
            *LAND_COVER_CLASSES,
            *MONTH_NAMES,
            *(word for bins in (TEMP_WORDS, PRECIP_WORDS, SOLAR_WORDS) for _, word in bins),
        ]
    )
    words: list[str] = []
    for raw in text.replace("/", " ").replace(",", " ").replace(".", " ").split():
        if raw not in words:
            words.append(raw)
    return words


def _learn_bpe_merges(words: list[str]) -> list[tuple[str, str]]:
    """BPE merges that build each word into one token; ties broken by the pair's text.

    Written out rather than using `tokenizers.trainers.BpeTrainer`, whose order among equally
    frequent pairs changes from run to run: token ids must be the same in every process, or the
    same seed would give different images.
    """
    corpus = {(*word[:-1], word[-1] + "</w>"): 1 for word in words}
    merges: list[tuple[str, str]] = []
    while True:
        counts: Counter[tuple[str, str]] = Counter()
        for symbols, freq in corpus.items():
            for pair in itertools.pairwise(symbols):
                counts[pair] += freq
        if not counts:
            return merges
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append(best)
        merged_corpus = {}
        for symbols, freq in corpus.items():
            out: list[str] = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged_corpus[tuple(out)] = freq
        corpus = merged_corpus


def _clip_vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A CLIP BPE vocabulary and merges: printable ASCII characters plus our prompt words.

    CLIP lower-cases and marks word ends with "</w>"; every printable character is in the
    vocabulary alone and word-final, so any prompt tokenizes (unknown words letter by letter).
    """
    symbols = [c for c in string.printable if not c.isspace()]
    vocab: dict[str, int] = {}
    for token in (*symbols, *(f"{c}</w>" for c in symbols)):
        vocab.setdefault(token, len(vocab))
    words = sorted({word.lower() for word in _prompt_words() if len(word) > 1})
    merges = _learn_bpe_merges(words)
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    for token in _SPECIAL_CLIP:
        vocab.setdefault(token, len(vocab))
    return vocab, merges


def build_tiny_clip_tokenizer():
    """A CLIPTokenizer with an in-code vocabulary (characters plus our prompt words)."""
    from transformers import CLIPTokenizer

    vocab, merges = _clip_vocab_and_merges()
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=CLIP_MAX_LENGTH)


def build_tiny_t5_tokenizer():
    """A T5 (Unigram) tokenizer with an in-code vocabulary: whole words score higher than letters."""
    from transformers import T5Tokenizer

    pieces: list[tuple[str, float]] = [(token, 0.0) for token in _SPECIAL_T5]
    seen = {token for token, _ in pieces}
    for word in _prompt_words():
        for piece in (f"▁{word}", word):
            if piece not in seen:
                pieces.append((piece, -2.0))
                seen.add(piece)
    for char in ["▁", *string.printable.strip()]:
        if char not in seen:
            pieces.append((char, -8.0))
            seen.add(char)
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def _clip_encoder(vocab_size: int, eos_token_id: int, bos_token_id: int, seed: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=CLIP_HIDDEN,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=CLIP_MAX_LENGTH,
        projection_dim=CLIP_PROJECTION,
        eos_token_id=eos_token_id,
        bos_token_id=bos_token_id,
        pad_token_id=eos_token_id,
        hidden_act="gelu",
    )
    torch.manual_seed(seed)
    return CLIPTextModelWithProjection(config).eval()


def _t5_encoder(vocab_size: int, seed: int):
    import torch
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=vocab_size,
        d_model=T5_D_MODEL,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    torch.manual_seed(seed)
    return T5EncoderModel(config).eval()


def build_tiny_transformer(seed: int = 0, latent_channels: int = LATENT_CHANNELS):
    """A tiny SD3Transformer2DModel (random weights)."""
    import torch
    from diffusers import SD3Transformer2DModel

    torch.manual_seed(seed)
    return SD3Transformer2DModel(
        sample_size=SAMPLE_SIZE,
        patch_size=PATCH_SIZE,
        in_channels=latent_channels,
        num_layers=TRANSFORMER_LAYERS,
        attention_head_dim=8,
        num_attention_heads=4,
        joint_attention_dim=T5_D_MODEL,
        caption_projection_dim=32,
        pooled_projection_dim=POOLED_DIM,
        out_channels=latent_channels,
        pos_embed_max_size=POS_EMBED_MAX_SIZE,
    ).eval()


def build_tiny_vae(seed: int = 0, latent_channels: int = LATENT_CHANNELS):
    """A tiny AutoencoderKL with SD3's 8x downsampling (random weights)."""
    import torch
    from diffusers import AutoencoderKL

    levels = len(VAE_CHANNELS)
    torch.manual_seed(seed)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels,
        block_out_channels=VAE_CHANNELS,
        layers_per_block=1,
        latent_channels=latent_channels,
        norm_num_groups=4,
        sample_size=SAMPLE_SIZE * 8,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    ).eval()


def build_controlnet_from_transformer(transformer, num_layers: int = CONTROLNET_LAYERS):
    """An SD3ControlNetModel initialised from `transformer`, leaving `transformer` untouched.

    diffusers' `SD3ControlNetModel.from_transformer` writes `num_layers` and
    `extra_conditioning_channels` into the transformer's own config (its FrozenDict is edited in
    place), after which the saved transformer no longer reloads. So the ControlNet is built from a
    deep copy. No extra conditioning channels: the SD3 ControlNet pipeline feeds the VAE latents
    of the control image, which have exactly the transformer's input channels.
    """
    from diffusers import SD3ControlNetModel

    return SD3ControlNetModel.from_transformer(
        copy.deepcopy(transformer), num_layers=num_layers, num_extra_conditioning_channels=0
    ).eval()


def build_tiny_pipeline(seed: int = 0, with_controlnet: bool = False, latent_channels: int = LATENT_CHANNELS):
    """The tiny random SD3 pipeline (produces noise): StableDiffusion3Pipeline or StableDiffusion3ControlNetPipeline.

    Args:
        seed: seed of the random weights (the same seed builds the same model).
        with_controlnet: build a StableDiffusion3ControlNetPipeline with a tiny ControlNet made from the
            transformer (as EcoMapper does with `from_transformer`).
        latent_channels: 4 (default) or `INPAINT_LATENT_CHANNELS` (16, as SD3: needed for inpainting).

    Returns:
        A pipeline in float32 on the CPU. No file is read or downloaded.
    """
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        StableDiffusion3ControlNetPipeline,
        StableDiffusion3Pipeline,
    )

    tokenizer = build_tiny_clip_tokenizer()
    tokenizer_3 = build_tiny_t5_tokenizer()
    clip_args = dict(
        vocab_size=len(tokenizer),
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    components = dict(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=build_tiny_vae(seed, latent_channels=latent_channels),
        text_encoder=_clip_encoder(**clip_args, seed=seed + 1),
        tokenizer=tokenizer,
        text_encoder_2=_clip_encoder(**clip_args, seed=seed + 2),
        tokenizer_2=build_tiny_clip_tokenizer(),
        text_encoder_3=_t5_encoder(len(tokenizer_3), seed=seed + 3),
        tokenizer_3=tokenizer_3,
        transformer=build_tiny_transformer(seed + 4, latent_channels=latent_channels),
    )
    if with_controlnet:
        controlnet = build_controlnet_from_transformer(components["transformer"])
        return StableDiffusion3ControlNetPipeline(**components, controlnet=controlnet)
    return StableDiffusion3Pipeline(**components)
