"""Argument helpers shared by several commands."""

from __future__ import annotations

import argparse

from core.geo import Point


def add_point_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lat", type=float, required=True, help="latitude in decimal degrees")
    parser.add_argument("--lon", type=float, required=True, help="longitude in decimal degrees")


def point_from(args: argparse.Namespace) -> Point:
    return Point(args.lat, args.lon)
