"""The Region tab: a width x height km area around the picked point, generated in tiles (core.services.region),
shown on the map over the real Sentinel-2 mosaic with the opacity slider, downloadable as a GeoTIFF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import GenerateForm, read_number
from app.handlers import bridge, requests
from app.handlers.context import AppContext, progress_bridge, stop_if_cancelled
from app.handlers.projection import ProjectionHandlers
from app.map_picker import image_overlay, map_value, served_url
from core import services

REGION_FIELDS = (*GenerateForm.FIELDS, "region_width_km", "region_height_km", "region_method")


@dataclass(frozen=True)
class RegionShown:
    """The `/region` endpoint's outputs: the labelled preview, the GeoTIFF, a summary, the map with the region."""

    region_image: str
    region_file: str
    region_summary: str
    map_html: dict


def _summary(result: Any) -> str:
    region = result.region
    tiles = result.run.tiles
    covers = sorted({t.land_cover for t in tiles})
    metrics = result.metrics
    versus = (f" · vs the real mosaic: SSIM {metrics['ssim']:.2f}, PSNR {metrics['psnr_db']:.1f} dB" if metrics
              else f" · no real mosaic: {result.real_problem}")  # fmt: skip
    return (
        f"{result.label}\n\n{region.width_px} x {region.height_px} px at {region.pixel_m:g} m, {region.crs}, "
        f"{len(tiles)} tiles ({region.method}); land cover: {', '.join(covers)}{versus}."
    )


class RegionHandlers:
    """One region from the Generate form's place, month, climate, scenario, model and sampling."""

    def __init__(self, context: AppContext, projection: ProjectionHandlers) -> None:
        self.context = context
        self.projection = projection

    @shown_errors
    def region(self, request: gr.Request, progress: gr.Progress, **values: Any) -> RegionShown:
        form = GenerateForm.parse({**values, "mode": "text"}, self.context.config.model_id)
        width_km = read_number(values.get("region_width_km"), "region width (km)")
        height_km = read_number(values.get("region_height_km"), "region height (km)")
        method = str(values.get("region_method") or services.REGION_DEFAULT_METHOD)
        with self.context.cancellable(request) as cancel:
            form.require_land_cover()
            point_view = bridge.describe_point(form.point, self.context.settings)
            # each tile looks up its own place and land cover: the form's hold only where a look-up fails
            engine, spec = self.context.engine_for(form.model, form.mode, progress)
            scenario = self.projection.scenario_for(form, progress)
            base = requests.generation_request(form, form.observed_climate(), scenario, point_view, spec)
            region = services.Region(base, width_km, height_km, method=method, per_tile=True)
            stop_if_cancelled(cancel, "before denoising")
            result = services.make_region(region, self.context.settings, engine=engine,
                                          progress=progress_bridge(progress), cancel=cancel)  # fmt: skip
            stem = formatting.safe_filename(formatting.point_stem(form.point.lat, form.point.lon), str(form.month),
                                            f"region-{method}", f"seed{form.sampling.seed}")  # fmt: skip
            folder = self.context.output_folder(request)
            files = services.export_region(result, folder / f"{stem}.tif", plain_png=folder / f"{stem}-overlay.png")
        real = image_overlay(served_url(files.real_png), region.bbox, "real mosaic") if files.real_png else None
        generated = image_overlay(served_url(files.plain_png), region.bbox, result.label)
        return RegionShown(
            region_image=str(files.png), region_file=str(files.geotiff), region_summary=_summary(result),
            map_html=map_value(form.point.lat, form.point.lon, region.geojson(), fly=True, real=real,
                               generated=generated),
        )  # fmt: skip
