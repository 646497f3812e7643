"""The Leaflet map picker: a gr.HTML whose clicks reach Python as `map_click` events.

Leaflet is loaded from a CDN (no third-party JavaScript lives in the repo); the base URL can be
pointed elsewhere with `ECOMAPPER_LEAFLET_URL` (a mirror, or a local copy in tests). The map's
value is a small JSON string that Python sends back after each click or typed point: the point
and the footprint's bounding box, which the page draws as a marker and a square.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import gradio as gr

DEFAULT_LEAFLET_URL = "https://unpkg.com/leaflet@1.9.4/dist"
LEAFLET_URL_ENV = "ECOMAPPER_LEAFLET_URL"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
SATELLITE_TILES = "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}"
MAP_CLICK_EVENT = "map_click"

# Static on purpose: a template with ${value} would re-render and wipe Leaflet's DOM.
_HTML_TEMPLATE = """
<div class="eco-map-wrap">
  <div class="eco-map" data-testid="eco-map"></div>
  <div class="eco-map-note" hidden></div>
</div>
"""

_CSS_TEMPLATE = """
.eco-map-wrap { position: relative; }
.eco-map { height: var(--eco-map-height, 520px); width: 100%; border-radius: 8px; background: #dfe8ef;
  cursor: crosshair; }
.eco-map-note { position: absolute; left: 56px; top: 10px; z-index: 1000; padding: 4px 8px;
  background: rgba(255,255,255,0.9); border-radius: 4px; font-size: 12px; color: #333; }
.eco-blend { background: rgba(255,255,255,0.92); padding: 4px 8px; border-radius: 6px; font: 12px sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.eco-blend input[type=range] { width: 120px; vertical-align: middle; }
.eco-blend .eco-ai { color: #b00; font-weight: bold; }
.eco-blend .eco-real-toggle { display: block; margin-top: 2px; cursor: pointer; }
.eco-blend .eco-real-toggle input { width: 14px; height: 14px; margin: 0 4px 0 0; vertical-align: middle; }
"""

# `element`, `trigger`, `props` and `watch` are provided by gr.HTML.
_JS_ON_LOAD = """
const box = element.querySelector('.eco-map');
const note = element.querySelector('.eco-map-note');
let tries = 0;
function showNote(text) { note.textContent = text; note.hidden = !text; }
function start() {
  if (!window.L) {
    tries += 1;
    if (tries > 100) { showNote('The map library did not load: type a latitude and longitude instead.'); return; }
    setTimeout(start, 100);
    return;
  }
  const map = L.map(box, { worldCopyJump: true, attributionControl: true }).setView([20, 0], 2);
  const osm = L.tileLayer('__OSM_TILES__', { maxZoom: 19, attribution: '&copy; OpenStreetMap contributors' });
  const sat = L.tileLayer('__SATELLITE_TILES__', { maxZoom: 18, attribution: 'Imagery &copy; Esri' });
  osm.addTo(map);
  L.control.layers({ 'OpenStreetMap': osm, 'Satellite (Esri World Imagery)': sat }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  // A 10 degree graticule keeps the map readable when no tiles load (offline).
  const grid = { color: '#8aa', weight: 0.6, opacity: 0.7, interactive: false };
  for (let lat = -80; lat <= 80; lat += 10) { L.polyline([[lat, -180], [lat, 180]], grid).addTo(map); }
  for (let lon = -180; lon <= 180; lon += 10) { L.polyline([[-85, lon], [85, lon]], grid).addTo(map); }
  let tileErrors = 0;
  osm.on('tileerror', () => {
    tileErrors += 1;
    if (tileErrors === 3) showNote('Map tiles are offline: clicks still pick points.');
  });
  let marker = null;
  let square = null;
  let realLayer = null;
  let aiLayer = null;
  let todayLayer = null;
  let shownKey = null;
  // Today's and the scenario's image lie on the footprint and the slider fades between them; the real image
  // is a third layer, switched on by its box (without today's image the slider fades real -> generated).
  function showReal(on) {
    if (!realLayer || !todayLayer) return;
    realLayer.setOpacity(on ? 1 : 0);
    if (on) { realLayer.bringToFront(); } else { realLayer.bringToBack(); }
    if (square) square.bringToFront();
  }
  const Blend = L.Control.extend({
    onAdd() {
      const div = L.DomUtil.create('div', 'eco-blend');
      div.innerHTML = '<span>real</span> <input type="range" min="0" max="100" value="100" '
        + 'aria-label="Generated image opacity"> <span class="eco-ai">AI-generated</span>'
        + '<label class="eco-real-toggle"><input type="checkbox" aria-label="Show the real image"> '
        + 'real image (Sentinel-2) on top</label>'
        + '<div class="eco-blend-label"></div>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector('input[type=range]').addEventListener('input', (ev) => {
        if (aiLayer) aiLayer.setOpacity(Number(ev.target.value) / 100);
      });
      div.querySelector('.eco-real-toggle input').addEventListener('change', (ev) => showReal(ev.target.checked));
      return div;
    },
  });
  const blend = new Blend({ position: 'bottomleft' });
  let blendShown = false;
  function footprintBounds(lat, lon) {
    // 5.12 km square around the point, drawn at once on click; Python sends the exact UTM square.
    const half = 2560.0;
    const dLat = half / 111320.0;
    const dLon = half / (111320.0 * Math.max(Math.cos(lat * Math.PI / 180), 0.01));
    return [[lat - dLat, lon - dLon], [lat + dLat, lon + dLon]];
  }
  function drawPoint(lat, lon, pending) {
    const style = pending
      ? { radius: 7, color: '#d33', weight: 2, fillOpacity: 0.25, dashArray: '3 3' }
      : { radius: 6, color: '#d33', weight: 2, fillOpacity: 0.8, dashArray: null };
    if (!marker) { marker = L.circleMarker([lat, lon], style).addTo(map); }
    else { marker.setLatLng([lat, lon]); marker.setStyle(style); }
    marker.getElement()?.classList.add('eco-marker');
  }
  function drawSquare(layer) {
    if (square) { map.removeLayer(square); }
    square = layer.addTo(map);
  }
  function clearOverlays() {
    if (realLayer) { map.removeLayer(realLayer); realLayer = null; }
    if (aiLayer) { map.removeLayer(aiLayer); aiLayer = null; }
    if (todayLayer) { map.removeLayer(todayLayer); todayLayer = null; }
    if (blendShown) { map.removeControl(blend); blendShown = false; }
    delete box.dataset.overlay;
  }
  function drawOverlays(state) {
    const key = JSON.stringify([state.real, state.today, state.generated]);
    if (key === shownKey) return;
    shownKey = key;
    clearOverlays();
    const today = state.generated ? state.today : null;
    if (state.real) {
      realLayer = L.imageOverlay(state.real.url, state.real.bounds, {
        opacity: today ? 0 : 1, interactive: false, className: 'eco-real-overlay',
      }).addTo(map);
    }
    if (today) {
      todayLayer = L.imageOverlay(today.url, today.bounds, {
        opacity: 1, interactive: false, className: 'eco-today-overlay', alt: today.label,
      }).addTo(map);
    }
    if (state.generated) {
      aiLayer = L.imageOverlay(state.generated.url, state.generated.bounds, {
        opacity: 1, interactive: false, className: 'eco-ai-overlay', alt: state.generated.label,
      }).addTo(map);
      blend.addTo(map);
      blendShown = true;
      const controls = blend.getContainer();
      controls.querySelector('input[type=range]').value = 100;
      controls.querySelector('span').textContent = today ? 'today' : 'real';
      controls.querySelector('.eco-real-toggle').style.display = today && state.real ? '' : 'none';
      controls.querySelector('.eco-real-toggle input').checked = false;
      blend.getContainer().querySelector('.eco-blend-label').textContent = state.generated.label || '';
      box.dataset.overlay = state.generated.url;
    }
    if (square) square.bringToFront();
  }
  function drawState() {
    let state = null;
    try { state = JSON.parse(props.value || 'null'); } catch (err) { return; }
    if (!state || typeof state.lat !== 'number') return;
    drawPoint(state.lat, state.lon, false);
    if (state.footprint) {
      drawSquare(L.geoJSON(state.footprint, { style: { color: '#ff7a00', weight: 2, fillOpacity: 0.04 } }));
      // Zoom in on typed or searched points and on results (the square would be a dot from far out).
      if (state.fly) { map.fitBounds(square.getBounds(), { maxZoom: 13, padding: [60, 60] }); }
    }
    drawOverlays(state);
    box.dataset.lat = String(state.lat);
    box.dataset.lon = String(state.lon);
  }
  map.on('click', (e) => {
    const ll = e.latlng.wrap();
    // Marker and footprint at once, before Python answers; the old overlays belong to the old point.
    box.dataset.clickLat = String(ll.lat);
    box.dataset.clickLon = String(ll.lng);
    shownKey = null;
    clearOverlays();
    drawPoint(ll.lat, ll.lng, true);
    drawSquare(L.rectangle(footprintBounds(ll.lat, ll.lng), { color: '#ff7a00', weight: 2, fillOpacity: 0.04,
      dashArray: '4 4', interactive: false }));
    box.dataset.markerAt = String(performance.now());
    if (map.getZoom() < 6) { map.setView([ll.lat, ll.lng], 11); }
    trigger('__EVENT__', { lat: ll.lat, lon: ll.lng });
  });
  watch('value', drawState);
  drawState();
  box.ecoMap = map;  // for scripted use (tests, benchmarks)
  box.dataset.ready = '1';
}
start();
"""


def leaflet_url(environ: Mapping[str, str] | None = None) -> str:
    """Base URL of Leaflet's `dist` folder: `ECOMAPPER_LEAFLET_URL` or the unpkg CDN."""
    env = os.environ if environ is None else environ
    return (env.get(LEAFLET_URL_ENV) or DEFAULT_LEAFLET_URL).rstrip("/")


def leaflet_head(base_url: str) -> str:
    """The <head> tags that load Leaflet's CSS and script."""
    return f'<link rel="stylesheet" href="{base_url}/leaflet.css">\n<script src="{base_url}/leaflet.js"></script>'


def map_value(
    lat: float,
    lon: float,
    footprint_geojson: dict | None,
    fly: bool = False,
    real: Mapping | None = None,
    generated: Mapping | None = None,
    today: Mapping | None = None,
) -> str:
    """The JSON the page draws: a marker at (lat, lon), the footprint polygon and image overlays.

    Args:
        lat: latitude in degrees.
        lon: longitude in degrees.
        footprint_geojson: the footprint as GeoJSON (from `Footprint.geojson()`).
        fly: whether the map should zoom to the footprint (typed points and searches, not clicks).
        real: the observed image on the footprint (`image_overlay(...)`), or None.
        generated: the generated image on the footprint (`image_overlay(...)`), or None; the map
            then shows an opacity slider between today's (or else the real) and the generated image.
        today: the image generated under today's climate (same seed), or None; with it the slider
            compares today and the scenario, and the real image is a third layer behind a check box.
    """
    return json.dumps(
        {"lat": lat, "lon": lon, "footprint": footprint_geojson, "fly": fly, "real": real, "generated": generated,
         "today": today}
    )  # fmt: skip


def image_overlay(url: str, bbox: tuple[float, float, float, float], label: str = "") -> dict:
    """An image drawn on a (min_lon, min_lat, max_lon, max_lat) box, in Leaflet's [[S, W], [N, E]] order."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return {"url": url, "bounds": [[min_lat, min_lon], [max_lat, max_lon]], "label": label}


def served_url(path: str | os.PathLike) -> str:
    """The URL under which Gradio serves a file of an allowed folder (see `launch(allowed_paths=...)`)."""
    return f"/gradio_api/file={os.fspath(path)}"


def build_map(base_url: str) -> gr.HTML:
    """The map component; its `map_click` listener receives `gr.EventData` with `lat` and `lon`."""
    js = (
        _JS_ON_LOAD.replace("__OSM_TILES__", OSM_TILES)
        .replace("__SATELLITE_TILES__", SATELLITE_TILES)
        .replace("__EVENT__", MAP_CLICK_EVENT)
    )
    return gr.HTML(
        value="",
        html_template=_HTML_TEMPLATE,
        css_template=_CSS_TEMPLATE,
        js_on_load=js,
        head=leaflet_head(base_url),
        elem_id="eco-map",
        padding=False,
        container=False,
    )
