"""Seeded writer of the small test rasters (COGs) the data-layer tests serve over HTTP.

Run at test time into a temporary folder (nothing here is committed as a raster):

    python -m tests.data.make_test_cogs OUT_DIR

Every raster is centred on the Sahara test point (the place the real Sentinel-2 TCI fixture shows)
so a fake STAC API can point item assets at them:

- `visual_10m.tif`: a 10 m, 3-band uint8 COG in UTM 29N (EPSG:32629), 1536 x 1536 px, 512 px tiles,
  with a nodata (0) strip on its west edge.
- `scl_clear.tif`, `scl_cloudy.tif`: Sentinel-2 scene classification layers (20 m, EPSG:32629);
  the clear one is bare soil (class 5) with a cloud block far from the point, the cloudy one has
  medium/high cloud, cirrus and shadow (classes 8, 9, 10, 3) over the footprint.
- `worldcover.tif`: ESA WorldCover-like classes (EPSG:4326, ~10 m): mostly bare (60), some
  grassland (30) and a water patch (80).
- `b04_10m.tif`, `b03_10m.tif`, `b02_10m.tif`, `b08_10m.tif`: test rasters standing in for the
  Sentinel-2 L2A reflectance band COGs (the fixtures hold no real band COGs): uint16 digital numbers,
  10 m, EPSG:32629, the same grid and dunes as `visual_10m.tif`, nodata 0; B08 (near-infrared) is
  brighter than red, as over bare sand. The real item's raster:bands read them as DN x 0.0001.
- `modis_lc_type1.tif`: MODIS MCD12Q1 LC_Type1-like classes on the MODIS sinusoidal grid (463 m):
  mostly barren (16), some open shrublands (7), a water pixel block (17).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The Sahara point of the real TCI fixture (tile 29RKH, 2020-02-19).
SAHARA_LAT = 24.8
SAHARA_LON = -11.4
UTM29N = "EPSG:32629"
# MODIS sinusoidal grid: sphere of radius 6371007.181 m, cells of 463.3127 m.
MODIS_SINUSOIDAL = "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs"
MODIS_CELL_M = 463.31271653
SEED = 20200219

# Scene classification codes (Sentinel-2 L2A SCL).
SCL_NODATA, SCL_SHADOW, SCL_BARE, SCL_CLOUD_MED, SCL_CLOUD_HIGH, SCL_CIRRUS = 0, 3, 5, 8, 9, 10


@dataclass(frozen=True)
class TestRasters:
    """Paths of the written rasters."""

    visual_10m: Path
    scl_clear: Path
    scl_cloudy: Path
    worldcover: Path
    modis_lc_type1: Path
    bands_10m: dict[str, Path]


def _utm_of_point() -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(4326, UTM29N, always_xy=True).transform(SAHARA_LON, SAHARA_LAT)


def write_cog(path: Path, data: np.ndarray, crs: str, transform, nodata: float | None = None) -> Path:
    """Write `data` (bands, rows, cols) as a tiled, deflate-compressed COG with overviews."""
    from rasterio.io import MemoryFile
    from rasterio.shutil import copy as rio_copy

    bands, rows, cols = data.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": bands,
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with MemoryFile() as memfile, memfile.open(**profile) as mem:
        mem.write(data)
        if data.shape[0] == 3:
            from rasterio.enums import ColorInterp

            mem.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
        rio_copy(mem, str(path), driver="COG", blocksize=512, compress="DEFLATE", overview_resampling="nearest")
    return path


def make_visual_10m(path: Path, rng: np.random.Generator) -> Path:
    from affine import Affine

    size = 1536
    x, y = _utm_of_point()
    min_x = round((x - size * 5) / 10) * 10
    max_y = round((y + size * 5) / 10) * 10
    rows, cols = np.mgrid[0:size, 0:size]
    # Dunes: smooth stripes plus seeded grain, in sand colours.
    dunes = 40 * np.sin(cols / 37.0 + rows / 91.0) + rng.normal(0, 12, (size, size))
    base = np.stack([200 + dunes, 170 + dunes * 0.9, 130 + dunes * 0.8])
    image = np.clip(base, 1, 255).astype(np.uint8)
    image[:, :, :64] = 0  # nodata strip on the west edge
    return write_cog(path, image, UTM29N, Affine(10.0, 0, min_x, 0, -10.0, max_y), nodata=0)


def _scl_grid(size: int = 1024, res_m: float = 20.0):
    from affine import Affine

    x, y = _utm_of_point()
    min_x = round((x - size * res_m / 2) / res_m) * res_m
    max_y = round((y + size * res_m / 2) / res_m) * res_m
    return Affine(res_m, 0, min_x, 0, -res_m, max_y), size


def make_scl(path: Path, cloudy: bool) -> Path:
    transform, size = _scl_grid()
    scl = np.full((size, size), SCL_BARE, dtype=np.uint8)
    if cloudy:
        # Over the centre (the footprint is the central 256 x 256 px at 20 m): 62.5 % cloud and shadow.
        centre = slice(size // 2 - 128, size // 2 + 128)
        block = scl[centre, centre]
        block[:64, :] = SCL_CLOUD_HIGH
        block[64:128, :] = SCL_CLOUD_MED
        block[128:154, :] = SCL_CIRRUS
        block[154:160, :] = SCL_SHADOW
    else:
        scl[:100, :100] = SCL_CLOUD_HIGH  # far corner, outside the footprint
    return write_cog(path, scl[np.newaxis], UTM29N, transform, nodata=SCL_NODATA)


# Mean digital numbers of the test band rasters (reflectance x 10000, sand-like: NIR above red).
BAND_MEAN_DN = {"B04": 3600, "B03": 3000, "B02": 2400, "B08": 4200}


def make_bands_10m(out: Path) -> dict[str, Path]:
    """Test rasters for the reflectance bands B04/B03/B02/B08 on the grid of `visual_10m.tif`."""
    from affine import Affine

    size = 1536
    x, y = _utm_of_point()
    min_x = round((x - size * 5) / 10) * 10
    max_y = round((y + size * 5) / 10) * 10
    rows, cols = np.mgrid[0:size, 0:size]
    dunes = 400 * np.sin(cols / 37.0 + rows / 91.0)
    paths = {}
    for band, mean_dn in BAND_MEAN_DN.items():
        dn = np.clip(mean_dn + dunes, 1, 10000).astype(np.uint16)
        paths[band] = write_cog(out / f"{band.lower()}_10m.tif", dn[np.newaxis], UTM29N,
                                Affine(10.0, 0, min_x, 0, -10.0, max_y), nodata=0)  # fmt: skip
    return paths


def make_worldcover(path: Path, rng: np.random.Generator) -> Path:
    from affine import Affine

    res_deg = 1 / 12000  # 0.3 arc seconds, WorldCover's own ~10 m grid
    half = 600
    transform = Affine(res_deg, 0, SAHARA_LON - half * res_deg, 0, -res_deg, SAHARA_LAT + half * res_deg)
    classes = np.full((2 * half, 2 * half), 60, dtype=np.uint8)
    classes[: half // 2, :] = 30  # a band of grassland in the north
    classes[half - 50 : half + 50, half + 100 : half + 200] = 80  # a pond east of the point
    noise = rng.random(classes.shape) < 0.02
    classes[noise] = 20  # scattered shrubs
    return write_cog(path, classes[np.newaxis], "EPSG:4326", transform, nodata=0)


def make_modis(path: Path) -> Path:
    from affine import Affine
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, MODIS_SINUSOIDAL, always_xy=True).transform(SAHARA_LON, SAHARA_LAT)
    size = 40
    min_x = (np.floor(x / MODIS_CELL_M) - size // 2) * MODIS_CELL_M
    max_y = (np.floor(y / MODIS_CELL_M) + size // 2) * MODIS_CELL_M
    classes = np.full((size, size), 16, dtype=np.uint8)
    classes[size // 2 - 3 : size // 2 + 1, size // 2 - 3 : size // 2 + 3] = 7  # open shrublands near the point
    classes[size // 2 + 2 : size // 2 + 4, size // 2 - 4 : size // 2 - 2] = 17  # water
    return write_cog(
        path, classes[np.newaxis], MODIS_SINUSOIDAL, Affine(MODIS_CELL_M, 0, min_x, 0, -MODIS_CELL_M, max_y), nodata=255
    )


def make_all(out_dir: str | Path) -> TestRasters:
    """Write every test raster into `out_dir` (deterministic for a given seed)."""
    out = Path(out_dir)
    rng = np.random.default_rng(SEED)
    return TestRasters(
        visual_10m=make_visual_10m(out / "visual_10m.tif", rng),
        scl_clear=make_scl(out / "scl_clear.tif", cloudy=False),
        scl_cloudy=make_scl(out / "scl_cloudy.tif", cloudy=True),
        worldcover=make_worldcover(out / "worldcover.tif", rng),
        modis_lc_type1=make_modis(out / "modis_lc_type1.tif"),
        bands_10m=make_bands_10m(out),
    )


if __name__ == "__main__":
    written = make_all(sys.argv[1] if len(sys.argv) > 1 else "test-artifacts/cogs")
    for name, value in vars(written).items():
        print(f"{name}: {value}")
