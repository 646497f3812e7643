"""`python -m core download`: fetch a model (and optionally a ControlNet / LoRA) into the local cache."""

from __future__ import annotations

import argparse
import json

from core.config import Settings

HELP = "download a model from the Hugging Face Hub into the local cache (sd3-medium is gated: log in first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.models.registry import list_controlnets, list_models

    listing = "; ".join(f"{model_id}: {text}" for model_id, text in list_models())
    controlnets = "; ".join(f"{cid}: {text}" for cid, text in list_controlnets())
    parser.add_argument("--model", help=f"model id or Hub repository ({listing})")
    parser.add_argument("--no-t5", action="store_true", help="skip the T5 encoder (~9 GB): no climate prompt")
    parser.add_argument("--controlnet", help=f"also (or only) fetch this SD3 ControlNet: Hub id or {controlnets}")
    parser.add_argument("--lora", help="also fetch this LoRA (Hub id)")
    parser.add_argument(
        "--hf-cache-dir", help="Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.errors import BadRequestError
    from core.models.checkpoints import resolve_weights
    from core.models.loading import download_model

    if not (args.model or args.controlnet or args.lora):
        raise BadRequestError("Nothing to download.", "Pass --model ID, --controlnet ID and/or --lora ID.")
    cache = args.hf_cache_dir
    found = {}
    if args.model:
        found["model"] = download_model(args.model, settings, drop_t5=args.no_t5, hf_cache_dir=cache)
    for what, ref in (("ControlNet", args.controlnet), ("LoRA", args.lora)):
        if ref:
            found[what.lower()] = resolve_weights(ref, settings, what=what, pipeline=False, hf_cache_dir=cache)
    print(json.dumps({name: {"path": str(w.path), "origin": w.origin} for name, w in found.items()}, indent=2))
    return 0
