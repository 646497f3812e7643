"""An exportable HTML map of one result, written with folium: the basemap, the footprint, and the real,
today's and the scenario's image as layers that can be switched on and off to compare them.

folium writes a stand-alone page (images embedded as data URLs) that opens in any browser and can
be shared or put on a class website. It is not the live map of the app: folium's maps cannot send
clicks back to a Gradio 6 server (see README "Maps"), so the app keeps its own gr.HTML + Leaflet map.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"


def write_result_map(
    path: Path,
    *,
    bbox: tuple[float, float, float, float],
    footprint: dict,
    real: np.ndarray | None,
    today: tuple[np.ndarray, str],
    scenario: tuple[np.ndarray, str],
) -> Path:
    """Write the HTML map and return its path (written to a temporary sibling, then renamed).

    Args:
        path: the `.html` file to write.
        bbox: the footprint's (min_lon, min_lat, max_lon, max_lat).
        footprint: the footprint polygon as GeoJSON.
        real: the real Sentinel-2 image of the month, or None when the month has none.
        today: the image generated under the observed climate and its "AI-generated · ..." label.
        scenario: the image generated under the scenario (same seed) and its label.
    """
    import folium

    min_lon, min_lat, max_lon, max_lat = bbox
    bounds = [[min_lat, min_lon], [max_lat, max_lon]]
    fmap = folium.Map(location=[(min_lat + max_lat) / 2, (min_lon + max_lon) / 2], zoom_start=12, tiles=None)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTRIBUTION).add_to(fmap)
    layers = []
    if real is not None:
        layers.append(folium.raster_layers.ImageOverlay(real, bounds, name="Real (Sentinel-2)", opacity=1.0))
    for image, label in (today, scenario):
        layers.append(folium.raster_layers.ImageOverlay(image, bounds, name=label, opacity=1.0))
    for layer in layers:
        layer.add_to(fmap)
    folium.GeoJson(
        footprint, name="Footprint (5.12 km)", style_function=lambda _: {"color": "#ff7a00", "fillOpacity": 0}
    ).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds(bounds)
    # Written beside the target and renamed: a reader never sees half a page.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(fmap.get_root().render(), encoding="utf-8")
    os.replace(partial, path)
    return path
