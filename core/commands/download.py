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
    parser.add_argument(
        "--model",
        help=f"model id or Hub repository ({listing}); peer generators: geosynth-osm, geosynth-canny, map-sat, "
        "text2earth, diffusionsat-256/-512 (its SD 2.1 parts)",
    )
    parser.add_argument("--no-t5", action="store_true", help="skip the T5 encoder (~9 GB): no climate prompt")
    parser.add_argument("--controlnet", help=f"also (or only) fetch this SD3 ControlNet: Hub id or {controlnets}")
    parser.add_argument("--lora", help="also fetch this LoRA (Hub id)")
    parser.add_argument(
        "--hf-cache-dir", help="Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.errors import BadRequestError
    from core.models.backends.registry import backend_info, is_peer_backend
    from core.models.checkpoints import resolve_weights
    from core.models.loading import download_model

    if not (args.model or args.controlnet or args.lora):
        raise BadRequestError("Nothing to download.", "Pass --model ID, --controlnet ID and/or --lora ID.")
    cache = args.hf_cache_dir
    found = {}
    if args.model and is_peer_backend(args.model):  # DiffusionSat, GeoSynth, map-sat, Text2Earth: own weights
        from core.models.backends.download import download_backend

        found = download_backend(args.model, settings, hf_cache_dir=cache)
        info = backend_info(args.model)
        if info.family == "diffusionsat":
            print(f"{args.model}: the SD 2.1 parts are here; the UNet is not on the Hub. {info.how_to_get}")
    elif args.model:
        found = {"model": download_model(args.model, settings, drop_t5=args.no_t5, hf_cache_dir=cache)}
    for what, ref in (("ControlNet", args.controlnet), ("LoRA", args.lora)):
        if ref:
            found[what.lower()] = resolve_weights(ref, settings, what=what, pipeline=False, hf_cache_dir=cache)
    print(json.dumps({name: {"path": str(w.path), "origin": w.origin} for name, w in found.items()}, indent=2))
    return 0
