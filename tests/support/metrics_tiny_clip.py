"""A tiny random CLIP model with an in-code tokenizer, saved like a Hub checkpoint (no download)."""

from __future__ import annotations

from pathlib import Path

_WORD_TEXT = (
    "a satellite image of in on the and cloudy very partially forests mixed evergreen needleleaf woody savannas "
    "russia canada ethiopia krasnoyarsk krai british columbia january february march april may june july august "
    "september october november december 2017 2018 2021 2022 , ."
)
WORDS = tuple(_WORD_TEXT.split())


def build_tiny_clip(seed: int = 0):
    """(CLIPModel, CLIPProcessor) with 32-d embeddings and 32 px images."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "<unk>": 2}
    for word in WORDS:
        vocab.setdefault(f"{word}</w>", len(vocab))
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77, unk_token="<unk>")
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    config = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "max_position_embeddings": 77, "bos_token_id": 0, "eos_token_id": 1,
                     "pad_token_id": 1},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    torch.manual_seed(seed)
    return CLIPModel(config).eval(), processor


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    model, processor = build_tiny_clip(seed)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
