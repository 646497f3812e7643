"""`python -m core download`: fetch a model (and optionally a ControlNet / LoRA) into the local cache."""

from __future__ import annotations

import argparse
import json

from core.config import Settings

HELP = "download a model from the Hugging Face Hub into the local cache (sd3-medium is gated: log in first)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from core.services.models import controlnet_choices, model_choices

    listing = "; ".join(f"{model_id}: {text}" for model_id, text in model_choices(peers=False))
    controlnets = "; ".join(f"{cid}: {text}" for cid, text in controlnet_choices())
    parser.add_argument(
        "--model",
        help=f"model id or Hub repository ({listing}); peer generators: geosynth-osm, geosynth-canny, map-sat, "
        "text2earth, diffusionsat-256/-512 (its SD 2.1 parts), copgen (into checkpoints/copgen/), zoomldm (converted "
        "into checkpoints/zoomldm/), terramind (the Hugging Face cache; runs with the optional terratorch extra)",
    )
    parser.add_argument("--no-t5", action="store_true", help="skip the T5 encoder (~9 GB): no climate prompt")
    parser.add_argument("--controlnet", help=f"also (or only) fetch this SD3 ControlNet: Hub id or {controlnets}")
    parser.add_argument("--lora", help="also fetch this LoRA (Hub id)")
    parser.add_argument(
        "--hf-cache-dir", help="Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.services.models import download_weights

    found, notes = download_weights(
        settings,
        model=args.model,
        controlnet=args.controlnet,
        lora=args.lora,
        no_t5=args.no_t5,
        hf_cache_dir=args.hf_cache_dir,
    )
    for note in notes:
        print(note)
    print(json.dumps({name: {"path": str(w.path), "origin": w.origin} for name, w in found.items()}, indent=2))
    return 0
