"""`python -m core climate`: monthly NASA POWER climate at a point, as JSON or CSV."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math

from core.commands._common import add_point_arguments, point_from

HELP = "monthly NASA POWER climate (temperature, precipitation, solar radiation) at a point"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default json)")


def climate_rows(ds) -> list[dict]:
    """One dict per month: month, the three values (None where missing) and their source."""
    rows = []
    for index, stamp in enumerate(ds["time"].values):
        row: dict = {"month": str(stamp)[:7]}
        for name in ("temp_c", "precip_mm_day", "solar_mj_m2_day"):
            value = float(ds[name].values[index])
            row[name] = None if math.isnan(value) else round(value, 3)
        row["source"] = str(ds["source"].values[index])
        rows.append(row)
    return rows


def run(args: argparse.Namespace, settings) -> int:
    from core.services import climate_series, ensure_on_land

    # NASA POWER answers for the sea too, but nothing in this product (imagery, land cover) exists there.
    point = ensure_on_land(point_from(args))
    ds = climate_series(point, args.start, args.end, settings)
    rows = climate_rows(ds)
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        units = {name: ds[name].attrs["units"] for name in ("temp_c", "precip_mm_day", "solar_mj_m2_day")}
        print(
            json.dumps(
                {
                    "latitude": point.lat,
                    "longitude": point.lon,
                    "power_version": ds.attrs["power_version"],
                    "units": units,
                    "months": rows,
                },
                indent=2,
            )
        )
    return 0
