"""Resolving the prompt context (place names, land cover, cloud, climate) for the generation commands.

Explicit arguments win; otherwise the data layer is asked (offline reverse geocoding, the land-cover
look-up, NASA POWER).
"""

from __future__ import annotations

import argparse

from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month, Point
from core.services import LAND_COVER_CLASSES, ClimateValues


def add_context_arguments(parser: argparse.ArgumentParser) -> None:
    """--land-cover, --cloud, --temp/--precip/--rad, --state/--country."""
    parser.add_argument(
        "--land-cover",
        metavar="CLASS",
        help="one of the 15 EcoMapper classes (default: looked up at the point); "
        f"choices: {'; '.join(LAND_COVER_CLASSES)}",
    )
    parser.add_argument(
        "--cloud", type=float, default=0.0, metavar="F", help="cloud fraction 0..1 to describe (default 0: clear)"
    )
    parser.add_argument("--temp", type=float, metavar="T", help="monthly mean temperature, °C")
    parser.add_argument("--precip", type=float, metavar="P", help="monthly mean precipitation, mm/day")
    parser.add_argument("--rad", type=float, metavar="R", help="monthly mean solar radiation, MJ/m²/day")
    parser.add_argument(
        "--state", help="first-level region for the prompt (default: offline reverse geocoding of the point)"
    )
    parser.add_argument(
        "--country",
        help="country for the prompt (default: offline reverse geocoding of the point)",
    )


def resolve_place(args: argparse.Namespace, point: Point, settings: Settings | None = None) -> tuple[str | None, str]:
    """(state, country): from --state/--country, else the place of the point (`core.services.place_of`)."""
    if args.country:
        return (args.state or None), args.country
    from core.services import place_of

    place = place_of(point, settings)
    return (args.state or place.state), place.country


def resolve_land_cover(args: argparse.Namespace, point: Point, settings: Settings) -> str:
    """--land-cover, else the class looked up at the point (never a guess)."""
    if args.land_cover:
        return args.land_cover
    from core.services import land_cover_at

    lookup = land_cover_at(point, settings)
    if lookup.land_cover is None:
        raise BadRequestError(
            f"The land cover at {point.label()} could not be looked up ({lookup.message}).",
            f"Pass --land-cover with one of: {'; '.join(LAND_COVER_CLASSES)}.",
        )
    return lookup.land_cover


def explicit_climate(args: argparse.Namespace) -> ClimateValues | None:
    """ClimateValues from --temp/--precip/--rad when all three are given; None when none is."""
    given = {name: getattr(args, name) for name in ("temp", "precip", "rad")}
    if all(value is None for value in given.values()):
        return None
    missing = [f"--{name}" for name, value in given.items() if value is None]
    if missing:
        raise BadRequestError(
            f"Climate values are incomplete: {', '.join(missing)} missing.",
            "Give all three of --temp, --precip and --rad, or none to use the observed climate.",
        )
    return ClimateValues(args.temp, args.precip, args.rad)


def resolve_climate(args: argparse.Namespace, point: Point, month: Month, settings: Settings) -> ClimateValues:
    """--temp/--precip/--rad, else the observed climate of the month."""
    values = explicit_climate(args)
    if values is not None:
        return values
    from core.services import observed_climate

    return observed_climate(point, month, settings)
