"""Map area: the Leaflet map, the latitude/longitude boxes and the offline place search."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from app.map_picker import build_map


@dataclass(frozen=True)
class MapArea:
    map_html: gr.HTML
    lat: gr.Textbox
    lon: gr.Textbox
    go_button: gr.Button
    place_query: gr.Textbox
    search_button: gr.Button
    place_results: gr.Dropdown
    place_line: gr.Markdown


def build_map_area(leaflet_url: str) -> MapArea:
    map_html = build_map(leaflet_url)
    place_line = gr.Markdown("Click the map to pick a place.", elem_id="place-line")
    with gr.Row(equal_height=True):
        # Text boxes, not number boxes: empty until a point is picked, and "24,8" is read as 24.8.
        lat = gr.Textbox(label="Latitude (°)", elem_id="lat", placeholder="e.g. 24.8", min_width=100, scale=2)
        lon = gr.Textbox(label="Longitude (°)", elem_id="lon", placeholder="e.g. -11.4", min_width=100, scale=2)
        go_button = gr.Button("Go", elem_id="go-point", scale=0, min_width=50)
        place_query = gr.Textbox(
            label="Find a place (offline)", placeholder="e.g. Nairobi or Paris, FR", elem_id="place-query", scale=3
        )
        search_button = gr.Button("Search", elem_id="place-search", scale=0, min_width=70)
    place_results = gr.Dropdown(label="Matches", choices=[], visible=False, elem_id="place-results")
    return MapArea(
        map_html=map_html,
        lat=lat,
        lon=lon,
        go_button=go_button,
        place_query=place_query,
        search_button=search_button,
        place_results=place_results,
        place_line=place_line,
    )
