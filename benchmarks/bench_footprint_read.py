"""Bytes transferred for one footprint read against the physical minimum, over local HTTP range requests.

    .venv/bin/python -m benchmarks.bench_footprint_read

The minimum is the COG header (everything before the first tile's data: IFDs, tag arrays) plus
the compressed full-resolution tiles the footprint intersects, read from the file's own
TileOffsets/TileByteCounts. The floor is 1.5x that minimum.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Cold reads: GDAL must not answer from its in-process /vsicurl/ cache.
os.environ.setdefault("CPL_VSIL_CURL_NON_CACHED", "/vsicurl/http://127.0.0.1")

from core.geo import Footprint, Point
from core.sources.cog import read_footprint
from tests.data.make_test_cogs import make_all
from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

FLOOR_RATIO = 1.5
SAHARA = Point(24.8, -11.4)


def tile_layout(path: Path, overview_level: int | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, col) of every internal tile -> (offset, byte count), from the TIFF tags."""
    import rasterio

    kwargs = {} if overview_level is None else {"overview_level": overview_level}
    with rasterio.open(path, **kwargs) as src:
        block_h, block_w = src.block_shapes[0]
        rows, cols = -(-src.height // block_h), -(-src.width // block_w)
        layout = {}
        for row in range(rows):
            for col in range(cols):
                offset = src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1)
                size = src.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=1)
                layout[(row, col)] = (int(offset), int(size))
    return layout


def physical_minimum(path: Path, footprint: Footprint) -> tuple[int, int, int]:
    """(header bytes, bytes of the intersected full-resolution tiles, number of those tiles)."""
    import rasterio

    with rasterio.open(path) as src:
        overview_count = len(src.overviews(1))
        window = src.window(*footprint.bounds)
        block_h, block_w = src.block_shapes[0]
        row0, row1 = max(0, int(window.row_off // block_h)), int((window.row_off + window.height - 1e-9) // block_h)
        col0, col1 = max(0, int(window.col_off // block_w)), int((window.col_off + window.width - 1e-9) // block_w)
    full = tile_layout(path)
    offsets = [offset for offset, _ in full.values()]
    for level in range(overview_count):
        offsets += [offset for offset, _ in tile_layout(path, level).values()]
    header = min(offsets)
    tiles = [full[(r, c)] for r in range(row0, row1 + 1) for c in range(col0, col1 + 1) if (r, c) in full]
    return header, sum(size for _, size in tiles), len(tiles)


def measure(server, settings, name: str, path: Path, label: str, point: Point = SAHARA) -> float:
    footprint = Footprint.around(point, epsg=32629)
    before = server.bytes_served(name)
    requests_before = len(server.requests_to(f"/files/{name}"))
    read = read_footprint(server.file_url(name), footprint, settings, indexes=[1, 2, 3])
    server.wait_idle()  # an answer GDAL abandoned may still be going out: count all of it
    transferred = server.bytes_served(name) - before
    count = len(server.requests_to(f"/files/{name}")) - requests_before
    header, tile_bytes, tiles = physical_minimum(path, footprint)
    minimum = header + tile_bytes
    ratio = transferred / minimum
    size = path.stat().st_size
    print(f"{label}")
    print(f"  file size             {size:>12,d} B")
    print(f"  output                {read.data.shape} from {read.source_pixel_size_m:g} m pixels")
    print(f"  physical minimum      {minimum:>12,d} B  (header {header:,d} + {tiles} tile(s) {tile_bytes:,d})")
    print(f"  transferred           {transferred:>12,d} B  in {count} HTTP request(s)")
    print(
        f"  ratio                 {ratio:>12.2f} x  (floor {FLOOR_RATIO}x: {'OK' if ratio <= FLOOR_RATIO else 'ABOVE'})"
    )
    print(f"  share of the file     {transferred / size:>12.1%}")
    return ratio


def main() -> int:
    if not REAL.exists():
        print(f"needs the shared fixtures at {REAL}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        rasters = make_all(tmp)
        server = start_replay_server(REAL, rasters)
        try:
            settings = settings_for(server, Path(tmp) / "cache")
            ratios = [
                measure(
                    server,
                    settings,
                    "tci.tif",
                    REAL / "S2A_29RKH_20200219_0_L2A_TCI_100m_cog.tif",
                    "real Sentinel-2 TCI COG (100 m, 1098 px, 512 px tiles)",
                ),
                measure(
                    server,
                    settings,
                    "visual_10m.tif",
                    rasters.visual_10m,
                    "generated 10 m visual COG (1536 px, 512 px tiles), footprint on one tile",
                ),
                measure(
                    server,
                    settings,
                    "visual_10m.tif",
                    rasters.visual_10m,
                    "same COG, footprint 2 km north-east: straddles four tiles",
                    Point(24.818, -11.382),
                ),
            ]
            # the same four-tile footprint again in this process (core.sources.cog keeps it): no transfer
            measure(
                server,
                settings,
                "visual_10m.tif",
                rasters.visual_10m,
                "the four-tile footprint again, same process (in-process footprint cache)",
                Point(24.818, -11.382),
            )
        finally:
            server.stop()
    return 0 if max(ratios) <= FLOOR_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
