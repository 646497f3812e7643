"""Requests built from one base `GenerationRequest` plus what varies: a run of months, a scenario grid.

Neither repeats the base's fields or checks: the place, generator, mode, seed and sampling are the
base's, validated once there. A time-lapse varies the month (and its observed climate) under one
scenario; a grid varies the scenario (temperature rows x precipitation columns) around one month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.climate.change import PRECIP_CHANGE_PCT_RANGE, TEMP_DELTA_C_RANGE
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
    """Temperature x precipitation changes around one month's observed climate, all from the base's seed.

    Args:
        base: the month, its observed climate (`observed_climate`, or `climate`), model, seed and the
            rest; mode "text" or "controlnet" (every cell shares the control image).
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
        """The climate the grid varies: the base's observed climate, else its climate."""
        return self.base.observed_climate or self.base.climate

    @property
    def scenarios(self) -> list[list[Scenario]]:
        """[temperature row][precipitation column] scenarios."""
        return [[Scenario.of_change(t, p) for p in self.precip_changes_pct] for t in self.temp_deltas_c]

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
