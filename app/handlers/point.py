"""Point and month events: a click, typed coordinates, a place search, a new month; and clearing
every result that belongs to the previous point or month."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import gradio as gr

from app.errors import shown_errors
from app.forms import read_month, read_number, read_point
from app.handlers import bridge
from app.handlers.context import AppContext
from app.map_picker import map_value
from app.state import Observation
from core import services
from core.errors import BadRequestError
from core.geo import Footprint, Point


@dataclass(frozen=True)
class PointShown:
    """A picked point: its boxes, the map drawn there and the line naming the place."""

    lat: str
    lon: str
    map_html: str
    place_line: str


@dataclass(frozen=True, kw_only=True)
class ClearedResults:
    """Everything of the previous point or month emptied; the map keeps only the new point."""

    real_image: Any = None
    today_image: Any = None
    scenario_image: Any = None
    slider: Any = None
    metrics: str = ""
    results: Any = None
    observed_line: str = "Observing…"
    temp_c: str = ""
    precip_mm_day: str = ""
    solar_mj_m2_day: str = ""
    land_cover: Any = None
    png: Any = None
    tif: Any = None
    recipe: Any = None
    html_map: Any = None
    control_image: Any = field(default_factory=lambda: gr.update(value=None))
    map_html: str


class PointHandlers:
    """Where the point comes from: the map, the boxes or the place search."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def _shown(self, point: Point, fly: bool) -> PointShown:
        view = bridge.describe_point(point, self.context.settings)
        return PointShown(
            lat=f"{point.lat:.5f}",
            lon=f"{point.lon:.5f}",
            map_html=map_value(point.lat, point.lon, view.footprint_geojson, fly),
            place_line=f"**{view.place_label}** · {point.label()} · footprint 5.12 km × 5.12 km ({view.crs})",
        )

    @shown_errors
    def map_clicked(self, event: gr.EventData) -> PointShown:
        """A click on the map (the page has already drawn the marker and footprint)."""
        data = getattr(event, "_data", None) or {}
        return self._shown(read_point(data.get("lat"), data.get("lon")), fly=False)

    @shown_errors
    def point_typed(self, lat: str | float | None, lon: str | float | None) -> PointShown:
        """Latitude/longitude typed in the boxes (a decimal comma is fine): move the map there."""
        return self._shown(read_point(lat, lon), fly=True)

    @shown_errors
    def search_place(self, place_query: str) -> dict[str, Any]:
        """Offline name search: fills the choices and jumps to the best match."""
        matches = services.search_places(place_query)
        if not matches:
            raise BadRequestError(
                f"No place called {place_query.strip()!r} is in the offline gazetteer (towns of 1000+ people).",
                "Check the spelling, add ', country' to narrow it, or click the map.",
            )
        choices = [(m.label(), f"{m.lat},{m.lon}") for m in matches]
        best = matches[0]
        return {
            "place_results": gr.update(choices=choices, value=choices[0][1], visible=True),
            **asdict(self._shown(Point(best.lat, best.lon), fly=True)),
        }

    @shown_errors
    def place_picked(self, place_results: str | None) -> PointShown:
        """One of the search results chosen in the dropdown."""
        if not place_results:
            raise BadRequestError("No search result is selected.", "Search for a place first.")
        lat_text, _, lon_text = str(place_results).partition(",")
        return self._shown(Point(float(lat_text), float(lon_text)), fly=True)


def month_changed(lat: Any, lon: Any, month: Any, observation: Observation | None) -> dict[str, Any]:
    """A new month: go on (clear and re-observe) only when a point is picked and something changed.

    Stops the chain quietly otherwise (an invisible error: nothing to clear, nothing to say).
    """
    try:
        point, chosen = read_point(lat, lon), read_month(month)
    except BadRequestError as err:
        if read_number(lat, "latitude", required=False) is None:
            raise gr.Error("no point yet", visible=False, print_exception=False) from err
        raise gr.Error(str(err), print_exception=False) from err
    if observation is not None and observation.matches(point.lat, point.lon, str(chosen)):
        raise gr.Error("unchanged", visible=False, print_exception=False)
    return {}


def clear_results(lat: Any, lon: Any) -> ClearedResults:
    """Empty every result of the previous point or month (images, climate, land cover, exports,
    the overlays on the map): nothing of the old one may be mixed into the new one."""
    point = read_point(lat, lon)
    return ClearedResults(map_html=map_value(point.lat, point.lon, Footprint.around(point).geojson()))
