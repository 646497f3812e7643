"""`python -m core verify FILE`: what an exported image claims (its C2PA content credentials, if any)."""

from __future__ import annotations

import argparse
import json

from core.config import Settings

HELP = "print the content credentials (C2PA manifest: signer, validation, recipe) an exported image carries"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="an exported PNG, JPEG or GeoTIFF")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the claims as JSON; exit 0 when a manifest is there and valid, 1 otherwise."""
    from core.services import verify_image

    claims = verify_image(args.file)
    print(json.dumps(claims, indent=2, ensure_ascii=False, default=str))
    return 0 if claims["manifest"] and claims["validation_state"] in ("Valid", "Trusted") else 1
