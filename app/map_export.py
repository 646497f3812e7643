"""An exportable HTML map of one result, written with folium: the basemap, the footprint, and the real,
today's and the scenario's image as layers that can be switched on and off to compare them (the
scenario is on when the page opens).

folium writes a stand-alone page (images embedded as data URLs) that opens in any browser and can
be shared or put on a class website. It is not the live map of the app: folium's maps cannot send
clicks back to a Gradio 6 server (see README "Maps"), so the app keeps its own gr.HTML + Leaflet map.
"""

from __future__ import annotations

import base64
import io
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
    # Stacked at full opacity only the top layer would be seen: the scenario is shown, the real image and
    # today's are one tick away in the layer switcher (issue 25: all three used to be on at once).
    layers = [(real, "Real (Sentinel-2)", False)] if real is not None else []
    layers += [(today[0], today[1], False), (scenario[0], scenario[1], True)]
    for image, name, shown in layers:
        folium.raster_layers.ImageOverlay(_png_data_url(image), bounds, name=name, opacity=1.0, show=shown).add_to(fmap)
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


def _png_data_url(image: np.ndarray) -> str:
    """The image as a PNG data URL, pixels unchanged (folium's own encoder stretches each image to its
    maximum, which brightens a dark scene and turns a flat one white)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
