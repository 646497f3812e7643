"""Point and month events: a click, typed coordinates, a place search, a new month; and clearing
every result that belongs to the previous point or month."""

from __future__ import annotations

import gradio as gr

from app.errors import shown_errors
from app.forms import read_month, read_number, read_point
from app.handlers import bridge
from app.map_picker import map_value
from core import services
from core.errors import BadRequestError
from core.geo import Footprint, Point


class PointHandlers:
    """Mixed into `Handlers`."""

    def _point_outputs(self, point: Point, fly: bool) -> tuple:
        view = bridge.describe_point(point, self.settings)
        place_md = f"**{view.place_label}** · {point.label()} · footprint 5.12 km × 5.12 km ({view.crs})"
        return (
            f"{point.lat:.5f}",
            f"{point.lon:.5f}",
            map_value(point.lat, point.lon, view.footprint_geojson, fly),
            place_md,
        )

    @shown_errors
    def map_clicked(self, evt: gr.EventData) -> tuple:
        """A click on the map (the page has already drawn the marker and footprint)."""
        data = getattr(evt, "_data", None) or {}
        return self._point_outputs(read_point(data.get("lat"), data.get("lon")), fly=False)

    @shown_errors
    def point_typed(self, lat: str | float | None, lon: str | float | None) -> tuple:
        """Latitude/longitude typed in the boxes (a decimal comma is fine): move the map there."""
        return self._point_outputs(read_point(lat, lon), fly=True)

    @shown_errors
    def search_place(self, query: str) -> tuple:
        """Offline name search: fills the choices and jumps to the best match."""
        matches = services.search_places(query)
        if not matches:
            raise BadRequestError(
                f"No place called {query.strip()!r} is in the offline gazetteer (towns of 1000+ people).",
                "Check the spelling, add ', country' to narrow it, or click the map.",
            )
        choices = [(m.label(), f"{m.lat},{m.lon}") for m in matches]
        best = matches[0]
        return (
            gr.update(choices=choices, value=choices[0][1], visible=True),
            *self._point_outputs(Point(best.lat, best.lon), fly=True),
        )

    @shown_errors
    def place_picked(self, choice: str | None) -> tuple:
        """One of the search results chosen in the dropdown."""
        if not choice:
            raise BadRequestError("No search result is selected.", "Search for a place first.")
        lat_text, _, lon_text = str(choice).partition(",")
        return self._point_outputs(Point(float(lat_text), float(lon_text)), fly=True)

    @staticmethod
    def month_changed(lat, lon, month, observation) -> None:
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

    @staticmethod
    def clear_results(lat, lon) -> tuple:
        """Empty every result of the previous point or month (images, climate, land cover, exports,
        the overlays on the map): nothing of the old one may be mixed into the new one.

        Order: real, today, scenario, slider, metrics, results state, observed line, temperature,
        precipitation, radiation, land cover, PNG, GeoTIFF, recipe, HTML map, control image, map.
        """
        point = read_point(lat, lon)
        footprint = Footprint.around(point)
        return (
            None, None, None, None, "", None, "Observing…", "", "", "", None, None, None, None, None,
            gr.update(value=None), map_value(point.lat, point.lon, footprint.geojson()),
        )  # fmt: skip
