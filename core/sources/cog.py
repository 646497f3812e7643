"""Windowed reads of only the footprint from a (cloud-optimised) GeoTIFF, over HTTP range requests."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from core.config import Settings
from core.errors import OfflineCacheMissError, UpstreamError
from core.geo import Footprint
from core.io.http import USER_AGENT

log = logging.getLogger(__name__)

SERVICE = "COG host"


def gdal_http_options(settings: Settings) -> dict[str, object]:
    """GDAL settings for /vsicurl/: no directory listing, merged ranges, our timeout and retries."""
    return {
        # Without these GDAL lists the "directory" and probes sidecar files: extra requests per open.
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "GDAL_HTTP_MULTIRANGE": "YES",
        "GDAL_HTTP_MAX_RETRY": str(settings.retries),
        "GDAL_HTTP_RETRY_DELAY": str(max(settings.backoff_s, 0.1)),
        "GDAL_HTTP_TIMEOUT": str(max(1, round(settings.timeout_s))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, round(min(10.0, settings.timeout_s)))),
        "GDAL_HTTP_USERAGENT": USER_AGENT,
    }


@dataclass(frozen=True)
class WindowRead:
    """Pixels of a footprint: `data` is (bands, size, size) on the footprint grid `crs`/`transform`."""

    data: np.ndarray
    crs: str
    transform: object  # affine.Affine
    source_crs: str
    source_pixel_size_m: float
    warped: bool
    resampled: bool

    def __post_init__(self) -> None:
        if self.data.ndim != 3 or self.data.shape[1] != self.data.shape[2]:
            raise ValueError(f"a footprint read must be (bands, n, n), got {self.data.shape}")


def _dataset_path(href: str) -> str:
    return "/vsicurl/" + href if href.startswith(("http://", "https://")) else href


def _read_same_grid(src, footprint: Footprint, indexes: list[int], size_px: int, resampling) -> np.ndarray:
    """Read the footprint window in the file's own grid; parts outside the file stay 0 (nodata)."""
    from rasterio.windows import Window, from_bounds

    window = from_bounds(*footprint.bounds, transform=src.transform)
    col0, row0 = max(0.0, window.col_off), max(0.0, window.row_off)
    col1 = min(float(src.width), window.col_off + window.width)
    row1 = min(float(src.height), window.row_off + window.height)
    out = np.zeros((len(indexes), size_px, size_px), dtype=src.dtypes[indexes[0] - 1])
    if col1 <= col0 or row1 <= row0:
        return out
    scale_x, scale_y = size_px / window.width, size_px / window.height
    out_c0, out_c1 = round((col0 - window.col_off) * scale_x), round((col1 - window.col_off) * scale_x)
    out_r0, out_r1 = round((row0 - window.row_off) * scale_y), round((row1 - window.row_off) * scale_y)
    if out_c1 <= out_c0 or out_r1 <= out_r0:
        return out
    out[:, out_r0:out_r1, out_c0:out_c1] = src.read(
        indexes,
        window=Window(col0, row0, col1 - col0, row1 - row0),
        out_shape=(len(indexes), out_r1 - out_r0, out_c1 - out_c0),
        resampling=resampling,
    )
    return out


# Footprints read over HTTP in this process, newest last. GDAL's own /vsicurl/ cache keeps single
# range reads, but not the parallel multi-range read of a footprint that straddles tiles (a second
# read of a 4-tile footprint fetched its 1.56 MB again). Remote COGs do not change; local files may,
# so they are not kept.
FOOTPRINT_CACHE_BYTES = 128 * 1024 * 1024
_footprints: OrderedDict[tuple, WindowRead] = OrderedDict()
_footprints_lock = threading.Lock()


def _remembered(key: tuple) -> WindowRead | None:
    with _footprints_lock:
        read = _footprints.get(key)
        if read is not None:
            _footprints.move_to_end(key)
    # a copy: the caller may change its pixels
    return None if read is None else replace(read, data=read.data.copy())


def _remember(key: tuple, read: WindowRead) -> None:
    with _footprints_lock:
        _footprints[key] = replace(read, data=read.data.copy())
        while sum(r.data.nbytes for r in _footprints.values()) > FOOTPRINT_CACHE_BYTES and len(_footprints) > 1:
            _footprints.popitem(last=False)


def read_footprint(
    href: str,
    footprint: Footprint,
    settings: Settings,
    *,
    indexes: list[int] | None = None,
    size_px: int | None = None,
    resampling: str = "nearest",
) -> WindowRead:
    """Read only the footprint from a raster at `href` (HTTP(S) URL or local path).

    In the file's own grid when it has the footprint's CRS (no warping; a coarser file is
    resampled to `size_px` with `resampling`); through a WarpedVRT onto the footprint grid otherwise.

    Raises:
        OfflineCacheMissError: offline mode is on (a raster read needs the network).
        UpstreamError: the file cannot be opened or read (unreachable, truncated, not a raster).
    """
    if settings.offline and href.startswith(("http://", "https://")):
        raise OfflineCacheMissError(
            f"Offline mode is on and the raster {href} is not in the cache.",
            "Unset ECOMAPPER_OFFLINE and fetch it once while connected.",
            service=SERVICE,
            url=href,
        )
    size = size_px or footprint.size_px
    remote = href.startswith(("http://", "https://"))
    key = (href, footprint, tuple(indexes or ()), size, resampling)
    if remote and (known := _remembered(key)) is not None:
        return known
    read = _read_footprint(href, footprint, indexes, size, resampling, settings)
    if remote:
        _remember(key, read)
    return read


def _read_footprint(
    href: str, footprint: Footprint, indexes: list[int] | None, size: int, resampling: str, settings: Settings
) -> WindowRead:
    import rasterio
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioError
    from rasterio.vrt import WarpedVRT

    method = Resampling[resampling]
    out_transform = footprint.transform_at(size)
    out_pixel_m = out_transform.a
    try:
        # NON_CACHED: GDAL would otherwise remember a failed answer for this URL for the life of the process, so
        # a transient 503 (on an SCL or a tile) would fail every later read in a long-running app
        options = {**gdal_http_options(settings), "CPL_VSIL_CURL_NON_CACHED": _dataset_path(href)}
        with rasterio.Env(**options), rasterio.open(_dataset_path(href)) as src:
            chosen = indexes or list(range(1, src.count + 1))
            source_crs = src.crs.to_string() if src.crs else ""
            source_pixel_m = float(abs(src.transform.a))
            if src.crs is not None and CRS(src.crs) == CRS.from_epsg(footprint.epsg):
                data = _read_same_grid(src, footprint, chosen, size, method)
                warped = False
                resampled = abs(source_pixel_m - out_pixel_m) > 1e-6 * out_pixel_m
            else:
                with WarpedVRT(
                    src,
                    crs=footprint.crs,
                    transform=out_transform,
                    width=size,
                    height=size,
                    resampling=method,
                    nodata=src.nodata if src.nodata is not None else 0,
                ) as vrt:
                    data = vrt.read(chosen)
                warped, resampled = True, True
    except RasterioError as err:
        raise UpstreamError(
            f"Could not read the footprint from {href}: {str(err)[:200]}.",
            "The file may be truncated or the host unreachable; try again later or pick another scene.",
            service=SERVICE,
            url=href,
        ) from err
    return WindowRead(
        data=data,
        crs=footprint.crs,
        transform=out_transform,
        source_crs=source_crs,
        source_pixel_size_m=source_pixel_m,
        warped=warped,
        resampled=resampled,
    )
