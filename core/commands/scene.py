"""`python -m core scene`: the real Sentinel-2 image of the footprint at a point in a month."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from core.commands._common import add_point_arguments, point_from

HELP = "least-cloudy Sentinel-2 L2A true-colour image (512x512, 10 m) of a point's footprint in a month"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--month", required=True, help="month, YYYY-MM")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--meta", type=Path, help="also write the scene's metadata as JSON")
    parser.add_argument("--geotiff", type=Path, help="also write a GeoTIFF with the footprint's CRS and transform")


def write_scene_geotiff(scene, path: Path) -> Path:
    """The image as a 3-band GeoTIFF on the scene's grid (written atomically)."""
    try:
        from core.export import write_geotiff  # the generation side's exporter, when present
    except ImportError:
        write_geotiff = None
    if write_geotiff is not None:
        return write_geotiff(scene.image, path, scene.crs, scene.transform)
    import rasterio

    from core.files import temporary_sibling

    tmp = temporary_sibling(path)
    try:
        profile = {
            "driver": "GTiff",
            "width": scene.image.shape[1],
            "height": scene.image.shape[0],
            "count": 3,
            "dtype": "uint8",
            "crs": scene.crs,
            "transform": scene.transform,
            "compress": "deflate",
            "photometric": "RGB",
        }
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(scene.image.transpose(2, 0, 1))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def run(args: argparse.Namespace, settings) -> int:
    from core.files import atomic_write_bytes, atomic_write_json
    from core.geo import Month
    from core.imagery import encode_png, fetch_scene

    scene = fetch_scene(point_from(args), Month.parse(args.month), settings)
    atomic_write_bytes(args.out, encode_png(scene.image))
    meta = scene.to_metadata()
    if args.meta:
        atomic_write_json(args.meta, meta)
    if args.geotiff:
        write_scene_geotiff(scene, args.geotiff)
    print(
        json.dumps(
            {
                "out": str(args.out),
                **{k: meta[k] for k in ("scene_id", "acquired", "cloud_fraction", "nodata_fraction", "crs")},
            }
        )
    )
    return 0
