"""Fill the paper's future-climate CSV (`2050_temp`, `2050_pr`, `2050_rsds`, ...) from CMIP6 projections.

Each row is a place (`latitude`, `longitude`) and a month with its observed climate
(`average_temp` deg C, `average_prep` mm/day, `average_rad` MJ/m^2/day). For every horizon the
place's projection scenario (ensemble statistic of the CMIP6 delta method) changes that month's
observed climate: the projected columns the experiment reads (`core.experiments.future`). One
projection per place and horizon, whatever the number of its rows; all cached on disk.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from pathlib import Path

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError
from core.geo import Month, Point
from core.io.files import atomic_write_text

log = logging.getLogger(__name__)

NEEDED = ("latitude", "longitude", "date", "average_temp", "average_prep", "average_rad")
SUFFIXES = ("temp", "pr", "rsds")  # the original experiment's column names per horizon


def fill_future_csv(
    csv_in: str | Path,
    csv_out: str | Path,
    ssp: str,
    settings: Settings,
    years: tuple[int, ...] = (2050, 2075, 2100),
    statistic: str = "median",
    progress: Callable[[int, int, str], None] | None = None,
    **project_kw,
) -> Path:
    """Write `csv_out`: `csv_in` with `{year}_temp`, `{year}_pr`, `{year}_rsds` from CMIP6 under `ssp`.

    Raises:
        BadRequestError: the CSV lacks latitude/longitude/date/observed climate columns, or a value is bad.
        UpstreamError: the CMIP6 catalog, stores or NASA POWER cannot be reached (nothing cached).
    """
    from core.climate.projection import scenario_from_projection
    from core.sources.projections import check_ssp, check_statistic, period_for, project_climate

    ssp, _ = check_ssp(ssp), check_statistic(statistic)
    for year in years:
        period_for(year)
    path = Path(csv_in)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadRequestError(f"Cannot read {path}: {err}.", "Give an existing CSV file.") from err
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = list(reader.fieldnames or [])
    missing = [c for c in NEEDED if c not in fields]
    if missing:
        raise BadRequestError(f"{path} lacks the column(s) {', '.join(missing)}.", f"Give {', '.join(NEEDED)}.")
    rows = list(reader)
    places = sorted({(round(float(r["latitude"]), 4), round(float(r["longitude"]), 4)) for r in rows})
    scenarios = {}
    total = len(places) * len(years)
    for index, (place, year) in enumerate(((p, y) for p in places for y in years), start=1):
        projection = project_climate(Point(*place), ssp, year, settings, **project_kw)
        scenarios[(place, year)] = scenario_from_projection(projection, statistic)
        if progress:
            progress(index, total, f"{place[0]}, {place[1]} {year}")
    out_fields = fields + [f"{y}_{s}" for y in years for s in SUFFIXES if f"{y}_{s}" not in fields]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=out_fields, lineterminator="\n")
    writer.writeheader()
    for line, row in enumerate(rows, start=2):
        try:
            place = (round(float(row["latitude"]), 4), round(float(row["longitude"]), 4))
            month = Month.parse(row["date"])
            observed = ClimateValues(float(row["average_temp"]), float(row["average_prep"]), float(row["average_rad"]))
        except (ValueError, BadRequestError) as err:
            raise BadRequestError(f"{path}, line {line}: {err}", "Fix the row's date and climate values.") from err
        for year in years:
            projected = scenarios[(place, year)].apply(observed, month)
            row.update(
                {
                    f"{year}_temp": projected.temp_c,
                    f"{year}_pr": projected.precip_mm_day,
                    f"{year}_rsds": projected.solar_mj_m2_day,
                }
            )
        writer.writerow(row)
    return atomic_write_text(csv_out, buffer.getvalue())
