"""`python -m core prompt`: print the EcoMapper spatial and climate prompts of a place and month as JSON."""

from __future__ import annotations

import argparse
import json

from core.commands._common import add_point_arguments, point_from
from core.commands._prompt_context import (
    add_context_arguments,
    resolve_climate,
    resolve_land_cover,
    resolve_place,
)
from core.config import Settings
from core.geo import Month

HELP = (
    'print the EcoMapper prompts of a place and month as JSON {"spatial": ..., "climate": ..., '
    '"diffusionsat_metadata": [10 values]}'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    add_context_arguments(parser)
    parser.add_argument("--words", action="store_true", help="word mode: describe the climate in words")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.services import diffusionsat_metadata, prompts_for

    point = point_from(args)
    month = Month.parse(args.month)
    state, country = resolve_place(args, point, settings)
    climate = resolve_climate(args, point, month, settings)
    prompts = prompts_for(
        point,
        month,
        resolve_land_cover(args, point, settings),
        cloud_fraction=args.cloud,
        climate=climate,
        state=state,
        country=country,
        word_mode=args.words,
    )
    # what EcoMapper's DiffusionSat-weather reads for this place and month (create_captions.py normalisation)
    metadata = diffusionsat_metadata(point, month, cloud_fraction=args.cloud, climate=climate)
    print(json.dumps({**prompts.as_dict(), "diffusionsat_metadata": metadata}, ensure_ascii=False))
    return 0
