"""The scenarios, horizons and 20-year periods a projection is asked for, validated up front."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import BadRequestError

# ScenarioMIP tier-1 experiments (CMIP6 `experiment_id`) and how people write them.
SSPS: dict[str, str] = {
    "ssp126": "SSP1-2.6",
    "ssp245": "SSP2-4.5",
    "ssp370": "SSP3-7.0",
    "ssp585": "SSP5-8.5",
}
HISTORICAL = "historical"
# The models' own reference period (the last 20 years of the CMIP6 historical run, as in IPCC AR6).
BASELINE_YEARS = (1995, 2014)
# The paper's horizons and their 20-year windows (AR6: 2041-2060 mid-term, 2081-2100 long-term).
NAMED_HORIZONS: dict[int, tuple[int, int]] = {2050: (2041, 2060), 2075: (2066, 2085), 2100: (2081, 2100)}
FIRST_SCENARIO_YEAR, LAST_SCENARIO_YEAR = 2015, 2100
PERIOD_LENGTH_YEARS = 20
# Ensemble statistics a scenario can ask for (10th/90th percentiles across models give the spread).
STATISTICS = ("median", "p10", "p90")


def check_ssp(ssp: str) -> str:
    """The CMIP6 experiment id for `ssp` ("ssp245", "SSP2-4.5" and "245" all work)."""
    text = str(ssp).strip().lower().replace(" ", "")
    for experiment_id, label in SSPS.items():
        if text in (experiment_id, label.lower(), experiment_id[3:], label.lower().replace(".", "").replace("-", "")):
            return experiment_id
    raise BadRequestError(
        f"Unknown scenario {ssp!r}.",
        f"Use one of {', '.join(SSPS)} ({', '.join(SSPS.values())}).",
    )


def check_statistic(statistic: str) -> str:
    if statistic not in STATISTICS:
        raise BadRequestError(f"Unknown ensemble statistic {statistic!r}.", f"Use one of {', '.join(STATISTICS)}.")
    return statistic


@dataclass(frozen=True)
class Period:
    """A horizon year and the 20 years averaged for it (inclusive)."""

    horizon: int
    start_year: int
    end_year: int

    def label(self) -> str:
        return f"{self.horizon} ({self.start_year}-{self.end_year})"


def period_for(horizon: int) -> Period:
    """The 20-year window for a horizon year.

    2050, 2075 and 2100 are the paper's horizons with fixed windows; any other year in 2015..2100
    gets the 20 years centred on it, moved inside the scenario runs (which end in 2100).

    Raises:
        BadRequestError: the year is outside 2015..2100 (the SSP runs' span).
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int):
        try:
            horizon = int(str(horizon).strip())
        except ValueError as err:
            raise BadRequestError(f"The horizon {horizon!r} is not a year.", "Give a year such as 2050.") from err
    if not FIRST_SCENARIO_YEAR <= horizon <= LAST_SCENARIO_YEAR:
        raise BadRequestError(
            f"The horizon {horizon} is outside {FIRST_SCENARIO_YEAR}-{LAST_SCENARIO_YEAR}, the span of the CMIP6 "
            "scenario runs.",
            "Pick a year between 2015 and 2100, e.g. 2050, 2075 or 2100.",
        )
    if horizon in NAMED_HORIZONS:
        return Period(horizon, *NAMED_HORIZONS[horizon])
    start = horizon - PERIOD_LENGTH_YEARS // 2 + 1
    start = max(FIRST_SCENARIO_YEAR, min(start, LAST_SCENARIO_YEAR - PERIOD_LENGTH_YEARS + 1))
    return Period(horizon, start, start + PERIOD_LENGTH_YEARS - 1)
