"""Resolving the prompt context (place names, land cover, cloud, climate) for the generation commands.

Explicit arguments win; otherwise the data layer is asked (offline reverse geocoding, the land-cover
look-up, NASA POWER). Modules of the data layer that are not installed yet give a clear error
naming the argument to pass instead.
"""

from __future__ import annotations

import argparse
import importlib

from core.climate_values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month, Point
from core.land_cover_classes import LAND_COVER_CLASSES


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
        help="country for the prompt (default: offline reverse geocoding of the point via core.places; "
        "required when that module is not installed)",
    )


def _optional_module(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:
            raise
        return None


def resolve_place(args: argparse.Namespace, point: Point) -> tuple[str | None, str]:
    """(state, country): from --state/--country, else from `core.places.reverse_geocode`."""
    if args.country:
        return (args.state or None), args.country
    places = _optional_module("core.places")
    if places is None:
        raise BadRequestError(
            "No --country given and the offline reverse geocoder (core.places) is not installed.",
            "Pass --country (and --state if known).",
        )
    place = places.reverse_geocode(point)
    return (args.state or place.state), place.country


def resolve_land_cover(args: argparse.Namespace, point: Point, settings: Settings) -> str:
    """--land-cover, else the class looked up at the point (never a guess)."""
    if args.land_cover:
        return args.land_cover
    landcover = _optional_module("core.landcover")
    if landcover is None:
        raise BadRequestError(
            "No --land-cover given and the land-cover look-up (core.landcover) is not installed.",
            f"Pass --land-cover with one of: {'; '.join(LAND_COVER_CLASSES)}.",
        )
    lookup = landcover.lookup_land_cover(point, settings)
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


def observed_climate(point: Point, start: Month, end: Month, settings: Settings) -> dict[Month, ClimateValues]:
    """The NASA POWER climate of each month from `start` to `end` (through core.climate)."""
    climate = _optional_module("core.climate")
    if climate is None:
        raise BadRequestError(
            "No climate values given and the NASA POWER client (core.climate) is not installed.",
            "Pass --temp, --precip and --rad.",
        )
    from core.geo import month_range

    dataset = climate.fetch_climate(point, start, end, settings)
    return {month: climate.climate_for_month(dataset, month) for month in month_range(start, end)}


def resolve_climate(args: argparse.Namespace, point: Point, month: Month, settings: Settings) -> ClimateValues:
    """--temp/--precip/--rad, else the observed climate of the month."""
    values = explicit_climate(args)
    if values is not None:
        return values
    return observed_climate(point, month, month, settings)[month]
