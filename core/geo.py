"""A validated point, month and the 5.12 km footprint around a point on the 10 m UTM grid."""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date

from core.errors import BadRequestError

# The EcoMapper footprint: 512 x 512 Sentinel-2 pixels at 10 m = 5.12 km square (26.21 km^2).
PIXEL_SIZE_M = 10.0
FOOTPRINT_PX = 512
FOOTPRINT_M = PIXEL_SIZE_M * FOOTPRINT_PX

# UTM is defined from 80 S to 84 N; beyond that the polar stereographic (UPS) grids take over.
UTM_MIN_LAT = -80.0
UTM_MAX_LAT = 84.0
UPS_NORTH_EPSG = 32661
UPS_SOUTH_EPSG = 32761

_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class Point:
    """A WGS84 point; latitude in [-90, 90], longitude in [-180, 180]."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        for name, value, limit in (("latitude", self.lat, 90.0), ("longitude", self.lon, 180.0)):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadRequestError(f"The {name} {value!r} is not a number.", f"Give a {name} in degrees.")
            if abs(value) > limit:
                raise BadRequestError(
                    f"The {name} {value:g} is outside [-{limit:g}, {limit:g}].",
                    f"Give a {name} in decimal degrees between -{limit:g} and {limit:g}.",
                )
        object.__setattr__(self, "lat", float(self.lat))
        object.__setattr__(self, "lon", float(self.lon))

    def label(self) -> str:
        ns = "N" if self.lat >= 0 else "S"
        ew = "E" if self.lon >= 0 else "W"
        return f"{abs(self.lat):.4f}°{ns}, {abs(self.lon):.4f}°{ew}"


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, `YYYY-MM`."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise BadRequestError(
                f"Month {self.year:04d}-{self.month:02d} has month number {self.month}, which is not 1..12.",
                "Write months as YYYY-MM with MM from 01 to 12.",
            )
        if not 1900 <= self.year <= 2200:
            raise BadRequestError(f"The year {self.year} is out of range.", "Use a year between 1900 and 2200.")

    @classmethod
    def parse(cls, text: str | Month) -> Month:
        if isinstance(text, Month):
            return text
        match = _MONTH_RE.match(str(text))
        if not match:
            raise BadRequestError(f"{text!r} is not a month.", "Write months as YYYY-MM, for example 2021-07.")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __add__(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + int(months)
        return Month(index // 12, index % 12 + 1)

    def __sub__(self, other: int | Month) -> Month | int:
        if isinstance(other, Month):
            return (self.year * 12 + self.month) - (other.year * 12 + other.month)
        return self + (-int(other))

    def ensure_not_future(self, today: date | None = None, what: str = "imagery") -> Month:
        """Raise if the month has not started yet (nothing can have been observed)."""
        now = today or date.today()
        if self > Month.of(now):
            raise BadRequestError(
                f"The month {self} is in the future (today is {now.isoformat()}), so there is no {what} for it.",
                f"Pick {Month.of(now)} or an earlier month.",
            )
        return self


def month_range(start: Month | str, end: Month | str) -> list[Month]:
    """Every month from `start` to `end` inclusive; raises if `end` is before `start`."""
    first, last = Month.parse(start), Month.parse(end)
    if last < first:
        raise BadRequestError(
            f"The end month {last} is before the start month {first}.", "Swap them or pick a later end month."
        )
    count = last - first
    if count > 12 * 200:
        raise BadRequestError(f"{count + 1} months is too long a range.", "Ask for at most 200 years.")
    return [first + i for i in range(count + 1)]


def utm_epsg(point: Point) -> int:
    """EPSG code of the projected grid Sentinel-2 would use at the point.

    UTM zone from longitude (with the Norway and Svalbard exceptions); UPS beyond UTM's latitudes.
    """
    if point.lat >= UTM_MAX_LAT:
        return UPS_NORTH_EPSG
    if point.lat < UTM_MIN_LAT:
        return UPS_SOUTH_EPSG
    lon = point.lon if point.lon < 180.0 else -180.0
    zone = int((lon + 180.0) // 6.0) + 1
    if 56.0 <= point.lat < 64.0 and 3.0 <= lon < 12.0:
        zone = 32
    elif 72.0 <= point.lat < 84.0 and lon >= 0.0:
        if lon < 9.0:
            zone = 31
        elif lon < 21.0:
            zone = 33
        elif lon < 33.0:
            zone = 35
        elif lon < 42.0:
            zone = 37
    return (32600 if point.lat >= 0 else 32700) + zone


@dataclass(frozen=True)
class Footprint:
    """The square observed around a point: `size_px` x `size_px` pixels of `pixel_size_m` in `epsg`.

    The grid is snapped to multiples of the pixel size, as Sentinel-2 tiles are, so a read in the
    item's own UTM grid needs no resampling.
    """

    point: Point
    epsg: int
    min_x: float
    max_y: float
    size_px: int = FOOTPRINT_PX
    pixel_size_m: float = PIXEL_SIZE_M

    @classmethod
    def around(
        cls, point: Point, size_px: int = FOOTPRINT_PX, pixel_size_m: float = PIXEL_SIZE_M, epsg: int | None = None
    ) -> Footprint:
        from pyproj import Transformer

        crs_epsg = epsg or utm_epsg(point)
        to_grid = Transformer.from_crs(4326, crs_epsg, always_xy=True)
        x, y = to_grid.transform(point.lon, point.lat)
        half = size_px * pixel_size_m / 2.0
        min_x = round((x - half) / pixel_size_m) * pixel_size_m
        max_y = round((y + half) / pixel_size_m) * pixel_size_m
        return cls(point=point, epsg=crs_epsg, min_x=min_x, max_y=max_y, size_px=size_px, pixel_size_m=pixel_size_m)

    @property
    def width_m(self) -> float:
        return self.size_px * self.pixel_size_m

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) in the footprint's CRS."""
        return (self.min_x, self.max_y - self.width_m, self.min_x + self.width_m, self.max_y)

    @property
    def transform(self):
        """The rasterio Affine of the footprint grid."""
        return self.transform_at(self.size_px)

    def transform_at(self, size_px: int):
        """The rasterio Affine of the same square sampled at `size_px` x `size_px` pixels."""
        from affine import Affine

        pixel_m = self.pixel_size_m if size_px == self.size_px else self.width_m / size_px
        return Affine(pixel_m, 0.0, self.min_x, 0.0, -pixel_m, self.max_y)

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat); min_lon > max_lon when it crosses the antimeridian.

        That is the STAC / GeoJSON convention for a box that wraps around 180°.
        """
        from pyproj import Transformer

        to_lonlat = Transformer.from_crs(self.epsg, 4326, always_xy=True)
        # densify so the curved edges of the projected square are covered
        return tuple(to_lonlat.transform_bounds(*self.bounds, densify_pts=21))  # type: ignore[return-value]

    @property
    def crosses_antimeridian(self) -> bool:
        min_lon, _, max_lon, _ = self.bbox
        return min_lon > max_lon

    def bbox_parts(self) -> list[tuple[float, float, float, float]]:
        """The bbox split at the antimeridian into one or two ordinary boxes (for searches)."""
        min_lon, min_lat, max_lon, max_lat = self.bbox
        if min_lon <= max_lon:
            return [(min_lon, min_lat, max_lon, max_lat)]
        return [(min_lon, min_lat, 180.0, max_lat), (-180.0, min_lat, max_lon, max_lat)]

    def geojson(self) -> dict:
        """The footprint as a GeoJSON (Multi)Polygon in lon/lat, split at the antimeridian."""
        parts = self.bbox_parts()
        rings = [[[[a, b], [c, b], [c, d], [a, d], [a, b]]] for a, b, c, d in parts]
        if len(rings) == 1:
            return {"type": "Polygon", "coordinates": rings[0]}
        return {"type": "MultiPolygon", "coordinates": rings}
