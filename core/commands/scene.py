"""`python -m core scene`: the real Sentinel-2 image of the footprint at a point in a month."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._common import add_point_arguments, point_from, print_result, written_files

HELP = "least-cloudy Sentinel-2 L2A true-colour image (512x512, 10 m) of a point's footprint in a month"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--month", required=True, help="month, YYYY-MM")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--meta", type=Path, help="also write the scene's metadata as JSON")
    parser.add_argument("--geotiff", type=Path, help="also write a GeoTIFF with the footprint's CRS and transform")


def run(args: argparse.Namespace, settings) -> int:
    from core.io.outputs import check_free_disk, check_output_file, estimated_png_bytes
    from core.services import export_scene, fetch_real_scene

    # outputs first: the format follows the extension, and nothing is fetched for a path we cannot write
    check_output_file(args.out, "--out", (".png",))
    if args.meta:
        check_output_file(args.meta, "--meta", (".json",))
    if args.geotiff:
        check_output_file(args.geotiff, "--geotiff", (".tif", ".tiff"))
    check_free_disk(args.out.parent, estimated_png_bytes(512, 2), "--out")
    scene = fetch_real_scene(point_from(args), args.month, settings)
    export_scene(scene, args.out, meta=args.meta, geotiff=args.geotiff)
    meta = scene.to_metadata()
    print_result(
        {
            "written": written_files(png=args.out, meta=args.meta, geotiff=args.geotiff),
            "out": str(args.out),  # the former key, kept for scripts that read it
            **{k: meta[k] for k in ("scene_id", "acquired", "cloud_fraction", "nodata_fraction", "crs")},
        }
    )
    return 0
