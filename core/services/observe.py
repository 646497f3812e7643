"""Observe a place in a month: the real image, the climate, the land cover and the place name.

Each part is fetched on its own and fails on its own: a month without a usable scene still gives
its climate and land cover, with the reason the image is missing. Also the defaults that depend on
what the services have published: `latest_month` (asked, not guessed) and the time-lapse range.
"""

from __future__ import annotations

import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.climate.values import ClimateValues
from core.config import Settings
from core.errors import BadRequestError, EcoMapperError, NoImageryError
from core.geo import Month, Point, month_range

log = logging.getLogger(__name__)

# How far back `latest_month` looks for a month with both a published POWER value and a scene.
LATEST_MONTH_LOOKBACK = 24
TIMELAPSE_DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Observation:
    """What is known about a place in a month; every part is present or says why not.

    Attributes:
        point, month: what was asked.
        scene: the Sentinel-2 scene (`core.sources.imagery.Scene`: image, acquired, cloud...), or None.
        scene_problem: why there is no scene (e.g. no acquisition under the cloud limit).
        climate: the month's NASA POWER climate, or None; `climate_problem` says why not.
        climate_history: the POWER dataset of the months up to `month` (for a chart), or None.
        land_cover: the class over the footprint, or None ("choose one"); `land_cover_source`,
            `land_cover_shares` and `land_cover_problem` say where it came from or why not.
        state, country, place_label, nearest_place: the place names (offline); `place_problem`
            when the point has none (open sea).
    """

    point: Point
    month: Month
    scene: Any = field(default=None, repr=False)
    scene_problem: str | None = None
    climate: ClimateValues | None = None
    climate_problem: str | None = None
    climate_history: Any = field(default=None, repr=False, compare=False)
    land_cover: str | None = None
    land_cover_source: str = ""
    land_cover_shares: dict[str, float] = field(default_factory=dict)
    land_cover_problem: str | None = None
    state: str | None = None
    country: str = ""
    place_label: str = ""
    nearest_place: str = ""
    place_problem: str | None = None
    elapsed_s: float = 0.0

    @property
    def image(self):
        """The real image (uint8 HxWx3), or None."""
        return None if self.scene is None else self.scene.image

    @property
    def cloud_fraction(self) -> float | None:
        return None if self.scene is None else self.scene.cloud_fraction

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no pixels)."""
        return {
            "point": {"lat": self.point.lat, "lon": self.point.lon},
            "month": str(self.month),
            "scene": None if self.scene is None else self.scene.to_metadata(),
            "scene_problem": self.scene_problem,
            "climate": None if self.climate is None else self.climate.as_dict(),
            "climate_problem": self.climate_problem,
            "land_cover": {
                "class": self.land_cover,
                "source": self.land_cover_source,
                "shares": self.land_cover_shares,
                "problem": self.land_cover_problem,
            },
            "place": {"state": self.state, "country": self.country, "label": self.place_label},
            "place_problem": self.place_problem,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def fetch_real_scene(point: Point, month: Month, settings: Settings, client: Any = None):
    """The least-cloudy Sentinel-2 scene of the month (`core.sources.imagery.fetch_scene`)."""
    from core.sources.imagery import fetch_scene

    return fetch_scene(point, Month.parse(month).ensure_not_future(), settings, client=client)


def climate_series(point: Point, start: Month, end: Month, settings: Settings, client: Any = None, today=None):
    """NASA POWER monthly climate as an xarray.Dataset (`core.sources.climate.fetch_climate`)."""
    from core.sources.climate import fetch_climate

    return fetch_climate(point, Month.parse(start), Month.parse(end), settings, client=client, today=today)


def observed_climate(point: Point, month: Month, settings: Settings) -> ClimateValues:
    """The month's NASA POWER climate (raises with the reason when the month has none)."""
    from core.sources.climate import fetch_month_climate

    return fetch_month_climate(point, month, settings)


def land_cover_at(point: Point, settings: Settings, client: Any = None):
    """The land-cover class over the footprint (`LandCoverLookup`; `land_cover=None` = choose one)."""
    from core.sources.landcover import lookup_land_cover

    return lookup_land_cover(point, settings, client=client)


def place_of(point: Point, settings: Settings | None = None):
    """State and country of `point` (`Place`; raises for the open sea).

    With `settings`, from the admin-1 polygon that contains the point (`Settings.boundaries_url`,
    fetched once, offline afterwards), falling back to the nearest town with one logged warning
    when the boundaries cannot be had; without, from the nearest town (offline gazetteer).
    """
    from core.sources.places import reverse_geocode

    return reverse_geocode(point, settings)


def ensure_on_land(point: Point) -> Point:
    """`point`, or `BadRequestError` when it is in the open sea (nothing to observe or generate there)."""
    from core.sources.places import ensure_on_land as check

    return check(point)


def search_places(query: str, limit: int = 10):
    """Places whose name matches `query` (offline gazetteer): `PlaceMatch(name, state, country, lat, lon, ...)`."""
    from core.sources.place_search import search_places as search

    return search(query, limit=limit)


def observe(
    point: Point,
    month: Month | str,
    settings: Settings,
    *,
    history_months: int = 1,
    client: Any = None,
    progress=None,
) -> Observation:
    """Observe `point` in `month`: scene, climate, land cover and place, each independently.

    Args:
        point: where.
        month: which month (not in the future).
        settings: endpoints, cache, offline mode.
        history_months: how many months of climate up to `month` to keep in `climate_history`.
        client: an HttpClient to reuse.
        progress: `progress(step, total, message)` after each part.

    Raises:
        BadRequestError: only for a bad point or month; a part that is missing is reported in
            the observation, not raised.
    """
    if not isinstance(point, Point):
        raise BadRequestError(f"The point {point!r} is not a Point.", "Pick a place on the map first.")
    chosen = Month.parse(month).ensure_not_future()
    if isinstance(history_months, bool) or not isinstance(history_months, int) or not 1 <= history_months <= 240:
        raise BadRequestError(f"history_months {history_months!r} is not 1..240.", "Ask for e.g. 48 months.")
    started = time.perf_counter()
    report = progress or (lambda *_: None)

    def scene_part() -> dict[str, Any]:
        try:
            return {"scene": fetch_real_scene(point, chosen, settings, client=client)}
        except EcoMapperError as err:
            log.info("no scene for %s %s: %s", point.label(), chosen, err)
            return {"scene_problem": str(err)}

    def climate_part() -> dict[str, Any]:
        from core.sources.climate import climate_for_month

        try:
            history = climate_series(point, chosen - (history_months - 1), chosen, settings, client=client)
            return {"climate_history": history, "climate": climate_for_month(history, chosen)}
        except EcoMapperError as err:
            return {"climate_problem": str(err)}

    def land_cover_part() -> dict[str, Any]:
        try:
            lookup = land_cover_at(point, settings, client=client)
        except EcoMapperError as err:
            return {"land_cover_problem": str(err)}
        return {
            "land_cover": lookup.land_cover,
            "land_cover_source": lookup.source,
            "land_cover_shares": dict(lookup.shares),
            "land_cover_problem": None if lookup.land_cover else (lookup.message or "no land-cover data here"),
        }

    def place_part() -> dict[str, Any]:
        try:
            place = place_of(point, settings)
        except EcoMapperError as err:
            return {"place_problem": str(err), "place_label": point.label()}
        return {
            "state": place.state,
            "country": place.country,
            "place_label": place.label(),
            "nearest_place": place.nearest_place,
        }

    # The parts ask different services (STAC + COG host, NASA POWER, the land-cover STAC API, an
    # offline table): asked at once, an observation takes as long as the slowest, not the sum.
    jobs = {
        "Read the Sentinel-2 footprint": scene_part,
        "Fetched NASA POWER climate": climate_part,
        "Looked up land cover": land_cover_part,
        "Looked up the place name": place_part,
    }
    parts: dict[str, Any] = {}
    report(0, len(jobs), "Observing: Sentinel-2, NASA POWER, land cover and place")
    from core.sources.places import is_on_land

    is_on_land(point)  # loads the land mask once here, not in three threads at the same time
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="observe") as pool:
        futures = {pool.submit(job): message for message, job in jobs.items()}
        for done, future in enumerate(as_completed(futures), start=1):
            parts.update(future.result())
            report(done, len(jobs), futures[future])
    return Observation(point=point, month=chosen, elapsed_s=time.perf_counter() - started, **parts)


def _has_published_monthly_value(dataset, index: int) -> bool:
    if str(dataset["source"].values[index]) != "monthly":
        return False
    return all(
        math.isfinite(float(dataset[name].values[index])) for name in ("temp_c", "precip_mm_day", "solar_mj_m2_day")
    )


def latest_month(
    point: Point,
    settings: Settings,
    *,
    today: date | None = None,
    lookback_months: int = LATEST_MONTH_LOOKBACK,
    client: Any = None,
) -> Month:
    """The latest month with both a published NASA POWER monthly value and a Sentinel-2 scene at `point`.

    Found by asking: one POWER request over the last `lookback_months` months (its monthly product
    appears after the year ends; daily aggregates do not count), then a STAC search per candidate
    month, newest first, until one has a scene over the footprint.

    Raises:
        NoImageryError: no month in the look-back window has both.
        UpstreamError: POWER or the STAC API failed.
    """
    from core.io.http import HttpClient
    from core.sources.imagery import search_scenes

    now = today or date.today()
    last = Month.of(now) - 1  # the current month has not ended: nothing monthly can exist for it
    first = last - (lookback_months - 1)
    dataset = climate_series(point, first, last, settings, client=client, today=now)
    months = month_range(first, last)
    published = [m for i, m in enumerate(months) if _has_published_monthly_value(dataset, i)]
    http = client or HttpClient(settings)
    for month in reversed(published):
        if search_scenes(point, month, settings, http):
            return month
        log.info("no Sentinel-2 scene at %s in %s", point.label(), month)
    raise NoImageryError(
        f"No month from {first} to {last} has both a published NASA POWER monthly value and a Sentinel-2 scene "
        f"at {point.label()} ({len(published)} month(s) had a POWER value).",
        "Type a month by hand, or pick another place.",
    )


def default_timelapse_range(today: date | None = None, latest: Month | None = None) -> tuple[Month, Month]:
    """The last complete 12 months: ending last month, or at `latest` (from `latest_month`) when given."""
    last = Month.parse(latest) if latest is not None else Month.of(today or date.today()) - 1
    return last - (TIMELAPSE_DEFAULT_MONTHS - 1), last
