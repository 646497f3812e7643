"""CMIP6 Zarr stores opened lazily with xarray: over anonymous HTTPS through `HttpClient`, or from a folder.

A read-only zarr Store whose every key is one GET through `core.io.http.HttpClient`, so the Zarr
reads get the project's timeouts, retries, on-disk cache (atomic writes) and offline mode; zarr
and xarray decide which keys to read (the consolidated metadata, the coordinates, and only the
chunks an index touches). Round trips are what a cold point costs on a real bucket, so metadata keys
are answered from the consolidated `.zmetadata` (one GET per store), and a coordinate chunk another
store of the same model grid (lat, lon) or run (time) has already read is reused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, Store, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

from core.config import Settings
from core.errors import UpstreamError
from core.io.cache import DiskCache, request_key
from core.io.http import HttpClient

log = logging.getLogger(__name__)

SERVICE = "CMIP6 Zarr store"
# The two public copies of the Pangeo CMIP6 stores and their anonymous HTTPS forms (docs/cmip6.md).
BUCKET_HTTPS_ROOTS = {
    "gs://cmip6/": "https://storage.googleapis.com/cmip6/",
    "s3://cmip6-pds/": "https://cmip6-pds.s3.amazonaws.com/",
}


def store_location(zstore: str, settings: Settings) -> str:
    """Where to read a catalog `zstore`: an http(s) URL or a local folder.

    `settings.cmip6_store_url` (a URL or a folder) replaces the bucket root, so a mirror or a local
    copy with the buckets' layout (`CMIP6/<activity>/<institution>/...`) is read instead.
    """
    zstore = zstore.rstrip("/")
    for prefix, https_root in BUCKET_HTTPS_ROOTS.items():
        if zstore.startswith(prefix):
            relative = zstore[len(prefix) :]
            root = settings.cmip6_store_url.rstrip("/") or https_root.rstrip("/")
            return f"{root}/{relative}"
    if zstore.startswith(("http://", "https://")) or "://" not in zstore:
        return zstore
    raise UpstreamError(
        f"The catalog names the store {zstore!r}, which is neither on gs://cmip6, s3://cmip6-pds nor HTTP(S).",
        "Use the Pangeo CMIP6 catalog, or set ECOMAPPER_CMIP6_STORE_URL to a mirror of the buckets.",
        service=SERVICE,
        url=zstore,
    )


CONSOLIDATED_KEY = ".zmetadata"
METADATA_KEYS = (".zgroup", ".zattrs", ".zarray")
# <root>/CMIP6/<activity_id>/<institution_id>/<source_id>/<experiment_id>/<member_id>/<table_id>/<variable_id>/
#   <grid_label>/<version>
CMIP6_PATH_PARTS = ("activity", "institution", "source", "experiment", "member", "table", "variable", "grid", "version")
# which parts of the path must match for two stores to hold the same coordinate values
SHARED_COORDINATES = {
    "lat": ("institution", "source", "grid"),
    "lon": ("institution", "source", "grid"),
    "time": ("institution", "source", "experiment", "member", "table", "grid"),
}


_SHARED_LOCKS: dict[str, threading.Lock] = {}
_SHARED_LOCKS_GUARD = threading.Lock()


def _shared_fetch_lock(shared_key: str) -> threading.Lock:
    with _SHARED_LOCKS_GUARD:
        return _SHARED_LOCKS.setdefault(shared_key, threading.Lock())


class HttpZarrStore(Store):
    """A read-only Zarr store at an HTTP(S) root; each key is fetched (and cached) by `HttpClient`.

    A key the server does not have (404) is a missing key for zarr (fill value / absent metadata)
    and is remembered in the cache, so an offline run sees the same store as the online one.
    """

    supports_writes = False
    supports_deletes = False
    supports_listing = False

    def __init__(self, root_url: str, settings: Settings, client: HttpClient | None = None) -> None:
        super().__init__(read_only=True)
        self.root_url = root_url.rstrip("/")
        self.settings = settings
        self._client = client
        self._absent = DiskCache(settings.cache_dir, "cmip6-absent")
        self._coordinates = DiskCache(settings.cache_dir, "cmip6-coordinates")
        self._consolidated_lock = threading.Lock()
        self._consolidated: tuple[bytes | None, dict] | None = None

    # Workers of a dask.distributed cluster get the location and settings, and make their own client.
    def __reduce__(self):
        return (type(self), (self.root_url, self.settings))

    @property
    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(self.settings)
        return self._client

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HttpZarrStore) and other.root_url == self.root_url

    def __hash__(self) -> int:
        return hash(self.root_url)

    def __str__(self) -> str:
        return self.root_url

    def with_read_only(self, read_only: bool = False) -> HttpZarrStore:
        if not read_only:
            raise ValueError("HttpZarrStore is read-only")
        return self

    def fetch(self, key: str) -> bytes | None:
        """The bytes of one key, or None when the store has no such key."""
        if key == CONSOLIDATED_KEY:
            return self._consolidated_metadata()[0]
        if key.rsplit("/", 1)[-1] in METADATA_KEYS:
            # zarr also asks for .zgroup / .zattrs / .zarray; the consolidated document has them all
            entry = self._consolidated_metadata()[1].get(key)
            return None if entry is None else json.dumps(entry).encode()
        shared = self._shared_coordinate_key(key)
        if shared is None:
            return self._get(key)
        with _shared_fetch_lock(shared):  # stores open in parallel: one fetches, the others wait and reuse
            body = self._coordinates.get(shared)
            if body is None:
                body = self._get(key)
                if body is not None:
                    self._coordinates.put(shared, body)
        return body

    def _consolidated_metadata(self) -> tuple[bytes | None, dict]:
        """`.zmetadata` (fetched once per store, also when zarr asks for it and .zgroup at once), parsed."""
        with self._consolidated_lock:
            if self._consolidated is None:
                body = self._get(CONSOLIDATED_KEY)
                try:
                    parsed = json.loads(body)["metadata"] if body else {}
                except (ValueError, KeyError, TypeError):
                    parsed = {}  # zarr reads the same body and names the problem
                self._consolidated = (body, parsed if isinstance(parsed, dict) else {})
            return self._consolidated

    def _shared_coordinate_key(self, key: str) -> str | None:
        """A cache key shared by every store whose coordinate chunk `key` must hold the same values:
        lat / lon of the same model and grid, time of the same run (experiment, member, table)."""
        name, _, chunk = key.partition("/")
        if name not in SHARED_COORDINATES or not chunk:
            return None
        parts = self.root_url.split("/CMIP6/", 1)[-1].split("/")
        if "/CMIP6/" not in self.root_url or len(parts) != len(CMIP6_PATH_PARTS):
            return None  # not the buckets' layout: nothing to share with
        path = dict(zip(CMIP6_PATH_PARTS, parts, strict=True))
        same = SHARED_COORDINATES[name]
        metadata = self._consolidated_metadata()[1]
        # the array's own metadata too: another shape, chunking or unit never shares
        described = [metadata.get(f"{name}/.zarray"), metadata.get(f"{name}/.zattrs")]
        return request_key("cmip6-coordinate", name, chunk, [path[part] for part in same], described)

    def _get(self, key: str) -> bytes | None:
        url = f"{self.root_url}/{key}"
        absent_key = request_key("absent", url)
        if self._absent.get(absent_key) is not None:
            return None
        try:
            return self.client.request("GET", url, service=SERVICE).content
        except UpstreamError as err:
            if err.status == 404:
                self._absent.put(absent_key, b"404")
                return None
            raise

    async def get(
        self, key: str, prototype: BufferPrototype | None = None, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        prototype = prototype or default_buffer_prototype()
        # requests is blocking; zarr gathers many keys at once, so each GET runs in a worker thread.
        body = await asyncio.to_thread(self.fetch, key)
        if body is None:
            return None
        return prototype.buffer.from_bytes(_byte_range(body, byte_range))

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        return list(await asyncio.gather(*(self.get(key, prototype, byte_range) for key, byte_range in key_ranges)))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.fetch, key) is not None

    async def set(self, key: str, value: Buffer) -> None:
        raise NotImplementedError("HttpZarrStore is read-only")

    async def delete(self, key: str) -> None:
        raise NotImplementedError("HttpZarrStore is read-only")

    async def list(self) -> AsyncIterator[str]:
        raise NotImplementedError("HttpZarrStore cannot list; open it with consolidated metadata")
        yield  # pragma: no cover - makes this an async generator

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        raise NotImplementedError("HttpZarrStore cannot list; open it with consolidated metadata")
        yield  # pragma: no cover

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        raise NotImplementedError("HttpZarrStore cannot list; open it with consolidated metadata")
        yield  # pragma: no cover


def _byte_range(body: bytes, byte_range: ByteRequest | None) -> bytes:
    """The part of a whole object that zarr asked for (whole objects are what is fetched and cached)."""
    if byte_range is None:
        return body
    if isinstance(byte_range, RangeByteRequest):
        return body[byte_range.start : byte_range.end]
    if isinstance(byte_range, OffsetByteRequest):
        return body[byte_range.offset :]
    if isinstance(byte_range, SuffixByteRequest):
        return body[len(body) - byte_range.suffix :]
    raise ValueError(f"unexpected byte range {byte_range!r}")


def open_cmip6_store(zstore: str, settings: Settings, client: HttpClient | None = None, dask: bool = False):
    """Open one catalog store as a lazy xarray.Dataset (cftime dates for every calendar).

    Only the consolidated metadata (`.zmetadata`) and the index coordinates are read here; data
    chunks are read when values are indexed. `dask=True` gives dask arrays (for region runs).

    Raises:
        UpstreamError: the store is unreachable or is not a consolidated Zarr v2 store.
    """
    import xarray as xr

    location = store_location(zstore, settings)
    if location.startswith(("http://", "https://")):
        store: object = HttpZarrStore(location, settings, client)
    else:
        path = Path(location.removeprefix("file://")).expanduser()
        if not path.is_dir():
            raise UpstreamError(
                f"The CMIP6 store {zstore} is not at {path}.",
                "Check ECOMAPPER_CMIP6_STORE_URL (a folder with the buckets' CMIP6/... layout).",
                service=SERVICE,
                url=str(path),
            )
        store = str(path)
    try:
        return xr.open_zarr(
            store,
            consolidated=True,
            zarr_format=2,
            chunks={} if dask else None,
            # Cell bounds are not used; dropping them saves a request per store.
            drop_variables=["time_bnds", "lat_bnds", "lon_bnds"],
            # Model calendars (noleap, 360_day, proleptic_gregorian) all decode to cftime dates.
            decode_times=xr.coders.CFDatetimeCoder(use_cftime=True),
        )
    except UpstreamError:
        raise
    except (KeyError, ValueError, FileNotFoundError, NotImplementedError) as err:
        raise UpstreamError(
            f"{location} is not a readable Zarr v2 store with consolidated metadata ({type(err).__name__}: {err}).",
            "The catalog may point at a store that moved; try again later or report the store.",
            service=SERVICE,
            url=location,
        ) from err
