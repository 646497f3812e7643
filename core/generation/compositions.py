"""Requests built from one base `GenerationRequest` plus what varies: a run of months, a scenario grid.

Neither repeats the base's fields or checks: the place, generator, mode, seed and sampling are the
base's, validated once there. A time-lapse varies the month (and its observed climate) under one
scenario; a grid varies the scenario (temperature rows x precipitation columns) around one month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.climate.change import PRECIP_CHANGE_PCT_RANGE, TEMP_DELTA_C_RANGE, ClimateChange
from core.climate.scenario import Scenario
from core.climate.values import ClimateValues
from core.errors import BadRequestError
from core.generation.request import GenerationRequest
from core.geo import Month, month_range

SERIES_CHAINS = ("independent", "controlnet")
MAX_SERIES_MONTHS = 240
MAX_GRID_STEPS = 10
MAX_BATCH_SIZE = 64


def check_batch_size(batch_size: object) -> None:
    """None (as many as fit in memory) or 1..MAX_BATCH_SIZE frames per pipeline call."""
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise BadRequestError(
            f"The batch size {batch_size!r} is not 1..{MAX_BATCH_SIZE}.",
            f"Use 1..{MAX_BATCH_SIZE}, or None for automatic.",
        )


def _check_base(base: object) -> None:
    if not isinstance(base, GenerationRequest):
        raise BadRequestError(f"The base {base!r} is not a GenerationRequest.", "Build a GenerationRequest.")


@dataclass(frozen=True)
class TimelapseRequest:
    """One frame per month at one place, under one scenario.

    Args:
        base: place, land cover, cloud, model, seed, sampling, place names and mode (ControlNet: its
            control image or month conditions the first frame; default the month before `start`).
            Its month and climate are replaced per frame; its own scenario must be today's (the
            time-lapse's `scenario` is the one applied).
        start, end: the months (inclusive, at most 240).
        scenario: the change applied to every month's observed climate.
        climates: the observed climate per month; None asks NASA POWER.
        chain: "independent" (same seed every month, batched) or "controlnet" (frame 1 conditioned
            on the real image, each later frame on the frame before).
        side_by_side: the real image of each month on the left ("real | generated").
        fps: frames per second of the written animation.
        batch_size: frames per pipeline call (independent chain); None: as many as fit in memory.
            1 keeps pixels identical to single-image runs; batched frames may differ by one 8-bit
            level at a few pixels (batched matrix products round differently).
    """

    base: GenerationRequest
    start: Month
    end: Month
    scenario: Scenario = field(default_factory=Scenario)
    climates: tuple[tuple[Month, ClimateValues], ...] | None = None
    chain: str = "independent"
    side_by_side: bool = False
    fps: float = 2.0
    batch_size: int | None = None

    def __post_init__(self) -> None:
        _check_base(self.base)
        object.__setattr__(self, "start", Month.parse(self.start))
        object.__setattr__(self, "end", Month.parse(self.end))
        months = month_range(self.start, self.end)
        if len(months) > MAX_SERIES_MONTHS:
            raise BadRequestError(
                f"{len(months)} months is too long a series.", f"Ask for at most {MAX_SERIES_MONTHS} months."
            )
        if not isinstance(self.scenario, Scenario):
            raise BadRequestError(f"The scenario {self.scenario!r} is not a Scenario.", "Pass a Scenario.")
        if not self.base.scenario.is_today and self.base.scenario != self.scenario:
            raise BadRequestError(
                f"The base request has the scenario '{self.base.scenario.label}' and the time-lapse "
                f"'{self.scenario.label}'.",
                "Give the scenario once, on the time-lapse.",
            )
        if self.chain not in SERIES_CHAINS:
            raise BadRequestError(f"Unknown chain {self.chain!r}.", f"Use one of {', '.join(SERIES_CHAINS)}.")
        check_batch_size(self.batch_size)
        if self.climates is not None:
            given = dict(self.climates)
            missing = [str(m) for m in months if m not in given]
            if missing:
                raise BadRequestError(
                    f"No climate given for {', '.join(missing)}.",
                    "Give the climate of every month, or None to fetch it.",
                )
        object.__setattr__(self, "base", self._first_frame_base())

    def _first_frame_base(self) -> GenerationRequest:
        """The base moved to `start`; a ControlNet chain conditions frame 1 on the month before by default."""
        base = self.base
        if self.chain == "controlnet" and base.mode != "controlnet":
            if base.control_image is not None:
                return base.replace(mode="controlnet", month=self.start)
            return base.replace(mode="controlnet", month=self.start, control_month=base.control_month or self.start - 1)
        return base if base.month == self.start else base.replace(month=self.start)

    @property
    def months(self) -> list[Month]:
        return month_range(self.start, self.end)

    def frame_requests(self, observed: dict[Month, ClimateValues]) -> list[GenerationRequest]:
        """The request of every frame: the base at each month, with its observed climate, under the scenario."""
        return [
            self.base.replace(month=m, observed_climate=observed[m], scenario=self.scenario, climate=None)
            for m in self.months
        ]


@dataclass(frozen=True)
class GridRequest:
    """Temperature x precipitation changes around one month's climate under the base's scenario, all from
    the base's seed: a cell's scenario is the base's plus its change (`Scenario.plus`), so a grid around a
    CMIP6 projection still records the observed climate as observed and the projection as the scenario.

    Args:
        base: the month, its observed climate (`observed_climate`, or `climate`), scenario, model, seed
            and the rest; mode "text" or "controlnet" (every cell shares the control image).
        temp_deltas_c: one row per temperature change (°C).
        precip_changes_pct: one column per precipitation change (percent: -30 = 30 % less rain).
        batch_size: cells per pipeline call; None: as many as fit in memory.
    """

    base: GenerationRequest
    temp_deltas_c: tuple[float, ...] = (0.0, 2.0, 4.0)
    precip_changes_pct: tuple[float, ...] = (-30.0, 0.0, 30.0)
    batch_size: int | None = None

    def __post_init__(self) -> None:
        _check_base(self.base)
        check_batch_size(self.batch_size)
        if self.base.climate is None:
            raise BadRequestError(
                "A scenario grid needs the month's climate to change.", "Give the observed climate of the month."
            )
        for name, values, bounds in (
            ("temperature changes", self.temp_deltas_c, TEMP_DELTA_C_RANGE),
            ("precipitation changes", self.precip_changes_pct, PRECIP_CHANGE_PCT_RANGE),
        ):
            if not values or len(values) > MAX_GRID_STEPS:
                raise BadRequestError(
                    f"Give 1 to {MAX_GRID_STEPS} {name} (got {len(values)}).", "For example 3 values each."
                )
            for value in values:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not bounds[0] <= value <= bounds[1]
                ):
                    raise BadRequestError(
                        f"The {name[:-1]} {value!r} is not a number in {bounds[0]:g}..{bounds[1]:g}.",
                        "Use e.g. 0, 2, 4 °C and -30, 0, 30 %.",
                    )
        object.__setattr__(self, "temp_deltas_c", tuple(float(v) for v in self.temp_deltas_c))
        object.__setattr__(self, "precip_changes_pct", tuple(float(v) for v in self.precip_changes_pct))
        self.cell_requests()  # every cell must be a physically possible climate

    @property
    def observed(self) -> ClimateValues:
        """The observed climate: the base's, else its climate (a base without a scenario)."""
        return self.base.observed_climate or self.base.climate

    @property
    def varied(self) -> ClimateValues:
        """The climate the changes apply to: the base's (observed, under the base's scenario)."""
        return self.base.climate

    @property
    def scenarios(self) -> list[list[Scenario]]:
        """[temperature row][precipitation column] scenarios: the base's plus each cell's change."""
        around = self.base.scenario
        return [[around.plus(ClimateChange(t, p)) for p in self.precip_changes_pct] for t in self.temp_deltas_c]

    def cell_requests(self) -> list[list[GenerationRequest]]:
        """[row][column] requests: the base under each cell's scenario."""
        return [
            [self.base.replace(observed_climate=self.observed, scenario=s, climate=None) for s in row]
            for row in self.scenarios
        ]

    @property
    def row_labels(self) -> list[str]:
        """Header of each row: '+2 °C', '±0 °C'."""
        return [Scenario.of_change(delta).change.label() or "±0 °C" for delta in self.temp_deltas_c]

    @property
    def column_labels(self) -> list[str]:
        """Header of each column: '−50 % rain', '±0 % rain'."""
        return [Scenario.of_change(0.0, pct).change.label() or "±0 % rain" for pct in self.precip_changes_pct]


# A region's tile is the base's image: `size_px` pixels of the 5.12 km footprint (512 px = 10 m).
REGION_GRID_M = 10.0  # canvas corners snap to Sentinel-2's 10 m grid
REGION_SIDE_MULTIPLE_PX = 16  # SD3: VAE 8 x patch 2
# What the refusal of a too-large region quotes: one SD3-medium 512 px call with guidance on a 24 GB GPU.
NOMINAL_GPU_S_PER_TILE_STEP = 0.25


@dataclass(frozen=True)
class Region:
    """A width x height km area around the base's point, generated in tiles of the base's size.

    Not a second request: the base says what to generate (month, climate, scenario, generator, mode,
    seed, steps); the region says how large and how the tiles are joined. The canvas is on the centre's
    UTM grid at the base's ground size (`base.ground_m_per_px`: 10 m at 512 px), rounded to whole
    multiples of 16 px; windows overlap by half a tile.

    Args:
        base: the centre and everything else; `size_px` is the tile (the model is only called at that size).
        width_km, height_km: the area (`core.limits.REGION_SIDE_KM`, `REGION_AREA_KM2`).
        method: "metaearth" (independent tiles, shared noise, centre crops), "multidiffusion"
            (velocities averaged every step) or "mixture" (averaged with Gaussian weights):
            `core.generation.tiling`.
        per_tile: each tile gets its own place names and majority land cover (False: the base's everywhere).
    """

    base: GenerationRequest
    width_km: float
    height_km: float
    method: str = "metaearth"
    per_tile: bool = True

    def __post_init__(self) -> None:
        from core import limits
        from core.generation.tiling import AVERAGING_METHODS, METHOD_NAMES, METHODS, MULTIDIFFUSION_MODES

        _check_base(self.base)
        # a tile is the 5.12 km footprint at any size_px: the side limit starts there
        limits.REGION_SIDE_KM.check("width_km", self.width_km)
        limits.REGION_SIDE_KM.check("height_km", self.height_km)
        if self.method not in METHODS:
            raise BadRequestError(f"Unknown region method {self.method!r}.", f"Use one of {', '.join(METHODS)}.")
        if self.method in AVERAGING_METHODS and self.base.mode not in MULTIDIFFUSION_MODES:
            raise BadRequestError(
                f"{METHOD_NAMES[self.method]} regions run in modes {' and '.join(MULTIDIFFUSION_MODES)}, "
                f"not {self.base.mode!r}.",
                "Use the method metaearth for img2img, edit and invert regions.",
            )
        self._check_area()
        self._check_utm_zone()

    def _check_area(self) -> None:
        from core.limits import REGION_AREA_KM2

        area = self.width_km * self.height_km
        if area <= REGION_AREA_KM2.high:
            return
        calls = len(self.windows()) * (self.base.num_inference_steps or 50)
        minutes = calls * NOMINAL_GPU_S_PER_TILE_STEP * (self.base.size_px / 512) ** 2 / 60
        raise BadRequestError(
            f"A {self.width_km:g} x {self.height_km:g} km region ({area:g} km²) is over the {REGION_AREA_KM2.high:g} "
            f"km² maximum: {len(self.windows())} tiles x {self.base.num_inference_steps} steps = {calls} model calls, "
            f"about {minutes:.0f} min on a GPU and many hours on a CPU.",
            REGION_AREA_KM2.hint,
        )

    def _check_utm_zone(self) -> None:
        """Every corner must be in the centre's UTM zone (the GeoTIFF is on that grid)."""
        from pyproj import Transformer

        from core.geo import Point, utm_epsg

        to_lonlat = Transformer.from_crs(self.epsg, 4326, always_xy=True)
        min_x, max_y = self.origin_m
        for x in (min_x, min_x + self.width_px * self.pixel_m):
            for y in (max_y, max_y - self.height_px * self.pixel_m):
                lon, lat = to_lonlat.transform(x, y)
                corner_epsg = utm_epsg(Point(lat, lon))
                if corner_epsg != self.epsg:
                    raise BadRequestError(
                        f"The region leaves UTM zone EPSG:{self.epsg} of its centre (corner {lat:.4f}, {lon:.4f} is "
                        f"in EPSG:{corner_epsg}); one GeoTIFF on one grid cannot hold it without warping.",
                        "Move the centre away from the zone border or make the region smaller.",
                    )

    @property
    def pixel_m(self) -> float:
        return self.base.ground_m_per_px

    @property
    def tile_px(self) -> int:
        return self.base.size_px

    @property
    def epsg(self) -> int:
        from core.geo import utm_epsg

        return utm_epsg(self.base.point)

    @property
    def crs(self) -> str:
        return f"EPSG:{self.epsg}"

    def _side_px(self, km: float) -> int:
        cells = max(1, round(km * 1000.0 / self.pixel_m / REGION_SIDE_MULTIPLE_PX))
        return max(self.tile_px, cells * REGION_SIDE_MULTIPLE_PX)

    @property
    def width_px(self) -> int:
        return self._side_px(self.width_km)

    @property
    def height_px(self) -> int:
        return self._side_px(self.height_km)

    @property
    def origin_m(self) -> tuple[float, float]:
        """(min_x, max_y) of the canvas on the centre's UTM grid, snapped to 10 m."""
        from pyproj import Transformer

        x, y = Transformer.from_crs(4326, self.epsg, always_xy=True).transform(self.base.point.lon, self.base.point.lat)
        min_x = round((x - self.width_px * self.pixel_m / 2.0) / REGION_GRID_M) * REGION_GRID_M
        max_y = round((y + self.height_px * self.pixel_m / 2.0) / REGION_GRID_M) * REGION_GRID_M
        return min_x, max_y

    @property
    def transform(self):
        """The rasterio Affine of the canvas."""
        from affine import Affine

        min_x, max_y = self.origin_m
        return Affine(self.pixel_m, 0.0, min_x, 0.0, -self.pixel_m, max_y)

    def windows(self):
        """The tile windows in canvas pixels (`core.generation.tiling.plan_windows`, half-tile overlap)."""
        from core.generation.tiling import plan_windows

        return plan_windows(self.height_px, self.width_px, self.tile_px)

    def tile_point(self, window):
        """The lat/lon of a window's centre."""
        from pyproj import Transformer

        from core.geo import Point

        min_x, max_y = self.origin_m
        row, col = window.centre
        lon, lat = Transformer.from_crs(self.epsg, 4326, always_xy=True).transform(
            min_x + col * self.pixel_m, max_y - row * self.pixel_m
        )
        return Point(round(lat, 7), round(lon, 7))

    def tile_requests(self) -> list[GenerationRequest]:
        """The base moved to each window's centre (names and land cover are the base's until resolved)."""
        return [self.base.replace(point=self.tile_point(window)) for window in self.windows()]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat) of the canvas."""
        from pyproj import Transformer

        min_x, max_y = self.origin_m
        bounds = (min_x, max_y - self.height_px * self.pixel_m, min_x + self.width_px * self.pixel_m, max_y)
        to_lonlat = Transformer.from_crs(self.epsg, 4326, always_xy=True)
        return tuple(to_lonlat.transform_bounds(*bounds, densify_pts=21))

    def geojson(self) -> dict:
        """The canvas's lon/lat box as a GeoJSON Polygon (what a map draws)."""
        a, b, c, d = self.bbox
        return {"type": "Polygon", "coordinates": [[[a, b], [c, b], [c, d], [a, d], [a, b]]]}

    def as_dict(self) -> dict:
        """What a recipe records besides the base request."""
        return {
            "width_km": self.width_km, "height_km": self.height_km, "method": self.method, "per_tile": self.per_tile,
            "width_px": self.width_px, "height_px": self.height_px, "tile_px": self.tile_px, "m_per_px": self.pixel_m,
            "crs": self.crs, "transform": list(self.transform)[:6], "tile_count": len(self.windows()),
        }  # fmt: skip
