"""`python -m core landcover`: the majority land-cover class over a point's footprint, and its place."""

from __future__ import annotations

import argparse
import json

from core.commands._common import add_point_arguments, point_from
from core.errors import UpstreamError

HELP = "land-cover class (one of EcoMapper's 15) over a point's footprint, with state and country"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)


def run(args: argparse.Namespace, settings) -> int:
    from core.services import land_cover_at, place_of

    point = point_from(args)
    place = place_of(point, settings)
    lookup = land_cover_at(point, settings)
    if lookup.land_cover is None and lookup.service_failed:
        # a service failed: not an answer a script may take as final (issue 26: it exited 0 with null)
        raise UpstreamError(lookup.message.split(". Please")[0] + ".", "Try again later, or give the class yourself.")
    print(
        json.dumps(
            {
                "latitude": point.lat,
                "longitude": point.lon,
                **lookup.as_dict(),
                "state": place.state,
                "country": place.country,
                "country_code": place.country_code,
            },
            indent=2,
        )
    )
    # "choose one" because no product has land pixels here is an answer: exit 0 with land_cover null and the message.
    return 0
