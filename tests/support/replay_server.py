"""A local HTTP server (127.0.0.1, ephemeral port) standing in for every service the data layer calls.

It replays the real recorded responses in ../shared/fixtures/real/, serves raster files with HTTP
range requests (counting the bytes it sends), runs a fake STAC API whose Sentinel-2 items are built
from the real recorded item JSON, and injects faults on request. See tests/support/README.md.

Routes (all under `server.base_url`):

    GET  /power/monthly/point        real monthly recording, cut to the requested years
    GET  /power/daily/point          real daily recording, cut to the requested days
    POST /earth-search/v1/search     real Earth Search pages 1 and 2 (next link rewritten to here)
    POST /stac/v1/search             fake STAC API (Sahara items -> local COGs), POST paging
    POST /pc/v1/search               real Planetary Computer search recording
    GET  /pc/sas/v1/token/<coll>     SAS token (format of the PC token API; no recording exists)
    POST /lc/v1/search               fake land-cover STAC API (esa-worldcover, modis-12Q1-061)
    GET  /files/<name>               registered files, with Range (single and multi-range)
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REAL_FILES = {
    "power_monthly": "nasa_power_monthly_point_2010_2025.json",
    "power_daily": "nasa_power_daily_point_temps_20050101_20220831.json",
    "power_regional": "nasa_power_monthly_regional_2022.json",
    "es_page1": "stac_earthsearch_v1_search_s2l2a_landsat_page1.json",
    "es_page2": "stac_earthsearch_v1_search_s2l2a_landsat_page2_empty.json",
    "pc_search": "stac_planetary_computer_search_sentinel-2-l2a.json",
    "s2_item": "stac_item_sentinel-2-l2a_S2A_29RKH_20200219_0_L2A.json",
    "tci_cog": "S2A_29RKH_20200219_0_L2A_TCI_100m_cog.tif",
}
# Bodies go out in chunks of this size, each counted before it is written (see Handler._send).
WRITE_CHUNK_BYTES = 64 * 1024
EARTH_SEARCH_ORIGIN = "https://earth-search.aws.element84.com/v1"

# The solar series is absent from the real monthly recording; the server adds one so a full observe
# flow has all three values, and says so in the response's `messages` (see README).
SYNTHETIC_SOLAR_MESSAGE = (
    "ecomapper replay server: ALLSKY_SFC_SW_DWN is not in the recorded response; these values are "
    "computed (0.72 x top-of-atmosphere insolation at the point) and are test data, not observations."
)


@dataclass
class Fault:
    """One injected misbehaviour, used once by the next matching request.

    kind: "delay" (sleep `seconds` before answering), "status" (answer `status`), "malformed"
    (200 with a body that is not JSON), "truncate" (serve only the first `size` bytes of a file),
    "empty" (a search answered with no features).
    """

    kind: str
    status: int = 500
    seconds: float = 0.0
    size: int = 0


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    range_header: str | None
    status: int
    bytes_sent: int
    body: Any = None


@dataclass
class FakeStacApi:
    """A minimal STAC API over a list of items: bbox/intersects, datetime, collections, limit, POST paging.

    Like Earth Search it offers a POST `next` link after every non-empty page, so the last page is empty.
    """

    items: list[dict]
    page_size: int = 10

    def search(self, body: dict, self_url: str) -> dict:
        matches = [item for item in self.items if _item_matches(item, body)]
        limit = int(body.get("limit") or self.page_size)
        offset = int(body.get("next") or 0)
        page = matches[offset : offset + limit]
        links = [{"rel": "root", "href": self_url.rsplit("/search", 1)[0], "type": "application/json"}]
        if page:
            links.append(
                {
                    "rel": "next",
                    "method": "POST",
                    "href": self_url,
                    "type": "application/geo+json",
                    "merge": False,
                    "body": {**{k: v for k, v in body.items() if k != "next"}, "next": str(offset + len(page))},
                }
            )
        return {
            "type": "FeatureCollection",
            "numberMatched": len(matches),
            "numberReturned": len(page),
            "features": page,
            "links": links,
        }


def _bbox_overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _geometry_bbox(geometry: dict) -> list[float]:
    coords: list[list[float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and node and isinstance(node[0], (int, float)):
            coords.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(geometry["coordinates"])
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return [min(xs), min(ys), max(xs), max(ys)]


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _item_matches(item: dict, body: dict) -> bool:
    if body.get("collections") and item.get("collection") not in body["collections"]:
        return False
    if "bbox" in body and not _bbox_overlaps(item["bbox"], body["bbox"]):
        return False
    if "intersects" in body and not _bbox_overlaps(item["bbox"], _geometry_bbox(body["intersects"])):
        return False
    if body.get("datetime"):
        start_text, _, end_text = str(body["datetime"]).partition("/")
        props = item["properties"]
        item_start = _parse_time(props.get("start_datetime") or props["datetime"])
        item_end = _parse_time(props.get("end_datetime") or props["datetime"])
        if start_text not in ("", "..") and item_end < _parse_time(start_text):
            return False
        if end_text not in ("", "..") and item_start > _parse_time(end_text or start_text):
            return False
    return True


def _toa_insolation_mj_m2_day(lat: float, year: int, month: int) -> float:
    """Daily mean top-of-atmosphere insolation (MJ/m^2/day) mid-month (Duffie & Beckman formulas)."""
    day = datetime(year, month, 15).timetuple().tm_yday
    decl = math.radians(23.45) * math.sin(2 * math.pi * (284 + day) / 365)
    phi = math.radians(lat)
    ws = math.acos(max(-1.0, min(1.0, -math.tan(phi) * math.tan(decl))))
    dr = 1 + 0.033 * math.cos(2 * math.pi * day / 365)
    gsc = 0.0820  # MJ/m^2/min
    return (
        24
        * 60
        / math.pi
        * gsc
        * dr
        * (ws * math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.sin(ws))
    )


class ReplayServer:
    """The server and its state; use as a context manager or call start()/stop()."""

    def __init__(self, real_dir: str | Path, data_dir: str | Path | None = None) -> None:
        self.real_dir = Path(real_dir)
        self.data_dir = Path(data_dir) if data_dir else None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.files: dict[str, Path] = {}
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.requests: list[RequestRecord] = []
        self._in_flight = 0  # requests being answered now (see wait_idle)
        # Behaviour switches (tests may change them between requests).
        self.power_verbatim = False  # True: no synthetic solar series added
        self.power_monthly_published_until: tuple[int, int] | None = None  # (year, month); later months -> -999
        self.sas_expiry_s = 3600.0
        self.sas_tokens_issued = 0
        self.stac: FakeStacApi | None = None
        self.landcover: FakeStacApi | None = None

    # ----- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ReplayServer:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="replay-server", daemon=True
        )
        self._thread.start()
        self.register_file("tci.tif", self.real_dir / REAL_FILES["tci_cog"])
        self.stac = FakeStacApi(self.sahara_items())
        self.landcover = FakeStacApi(self.landcover_items())
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- addresses -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def power_url(self) -> str:
        return f"{self.base_url}/power"

    @property
    def stac_url(self) -> str:
        return f"{self.base_url}/stac/v1"

    @property
    def earth_search_url(self) -> str:
        return f"{self.base_url}/earth-search/v1"

    @property
    def pc_stac_url(self) -> str:
        return f"{self.base_url}/pc/v1"

    @property
    def pc_sas_url(self) -> str:
        return f"{self.base_url}/pc/sas/v1/token"

    @property
    def landcover_stac_url(self) -> str:
        return f"{self.base_url}/lc/v1"

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}"

    def env(self) -> dict[str, str]:
        """ECOMAPPER_* variables pointing every endpoint here (for subprocesses and the shell)."""
        return {
            "ECOMAPPER_STAC_URL": self.stac_url,
            "ECOMAPPER_PC_STAC_URL": self.pc_stac_url,
            "ECOMAPPER_PC_SAS_URL": self.pc_sas_url,
            "ECOMAPPER_LANDCOVER_STAC_URL": self.landcover_stac_url,
            "ECOMAPPER_POWER_URL": self.power_url,
        }

    # ----- content -------------------------------------------------------------------------------
    def real_json(self, key: str) -> Any:
        return json.loads((self.real_dir / REAL_FILES[key]).read_bytes())

    def register_file(self, name: str, path: str | Path) -> str:
        self.files[name] = Path(path)
        return self.file_url(name)

    def inject(self, path_prefix: str, *faults: Fault) -> None:
        """Queue faults for the next requests whose path starts with `path_prefix` (used once each)."""
        with self._lock:
            self.faults[path_prefix].extend(faults)

    def bytes_served(self, name: str | None = None) -> int:
        prefix = f"/files/{name}" if name else "/files/"
        return sum(r.bytes_sent for r in self.requests if r.path.startswith(prefix))

    def wait_idle(self, timeout_s: float = 5.0) -> None:
        """Wait until no request is being answered (a client may hang up while its answer is still going out)."""
        deadline = time.monotonic() + timeout_s
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.005)

    def requests_to(self, path_prefix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def sahara_items(self, scl: dict[str, str] | None = None, bands: dict[str, str] | None = None) -> list[dict]:
        """Sentinel-2 L2A items for the Sahara point, built from the real recorded item.

        The first is the real item with `visual` pointing at the real TCI COG served here. The
        second is a copy two passes later (same pixels) whose scene-wide `eo:cloud_cover` is lower
        but whose footprint is cloudy in its SCL: ranking must look at the footprint, not the scene.
        `scl` maps item id -> SCL href (when absent the items carry no `scl` asset); `bands` maps an
        asset key (red, green, blue, nir) -> href of a test band raster served here.
        """
        real = self.real_json("s2_item")
        real["assets"]["visual"]["href"] = self.file_url("tci.tif")
        cloudy_copy = copy.deepcopy(real)
        cloudy_copy["id"] = "S2A_29RKH_20200229_0_L2A_copy"
        cloudy_copy["properties"]["datetime"] = "2020-02-29T11:34:25.405000Z"
        cloudy_copy["properties"]["eo:cloud_cover"] = 2.0
        items = [real, cloudy_copy]
        for item in items:
            if scl and item["id"] in scl:
                item["assets"]["scl"]["href"] = scl[item["id"]]
            else:
                item["assets"].pop("scl", None)
            for key, href in (bands or {}).items():
                item["assets"][key]["href"] = href
            # Asset hrefs other than the served ones point at the public bucket: never fetched in tests.
        return items

    def landcover_items(self) -> list[dict]:
        """ESA WorldCover and MODIS MCD12Q1 items whose assets point at the generated test rasters."""
        if self.data_dir is None:
            return []
        items = []
        for collection, asset, name, year in (
            ("modis-12Q1-061", "LC_Type1", "modis_lc_type1.tif", 2021),
            ("esa-worldcover", "map", "worldcover.tif", 2021),
        ):
            href = self.register_file(name, self.data_dir / name)
            items.append(
                {
                    "type": "Feature",
                    "stac_version": "1.0.0",
                    "id": f"{collection}-test-{year}",
                    "collection": collection,
                    "bbox": [-12.0, 24.0, -10.8, 25.4],
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [[[-12.0, 24.0], [-10.8, 24.0], [-10.8, 25.4], [-12.0, 25.4], [-12.0, 24.0]]],
                    },
                    "properties": {
                        "datetime": None,
                        "start_datetime": f"{year}-01-01T00:00:00Z",
                        "end_datetime": f"{year}-12-31T23:59:59Z",
                    },
                    "links": [],
                    "assets": {
                        asset: {"href": href, "type": "image/tiff; application=geotiff; profile=cloud-optimized"}
                    },
                }
            )
        return items

    # ----- POWER ---------------------------------------------------------------------------------
    def power_monthly(self, query: dict[str, str]) -> dict:
        data = self.real_json("power_monthly")
        first, last = int(query.get("start", "0")), int(query.get("end", "9999"))
        lat = float(query.get("latitude", data["geometry"]["coordinates"][1]))
        fill = data["header"]["fill_value"]
        series = data["properties"]["parameter"]
        for name in list(series):
            series[name] = {k: v for k, v in series[name].items() if first <= int(k[:4]) <= last}
            if self.power_monthly_published_until:
                cut = self.power_monthly_published_until[0] * 100 + self.power_monthly_published_until[1]
                series[name] = {k: (fill if int(k) > cut else v) for k, v in series[name].items()}
        wanted = [p for p in query.get("parameters", "").split(",") if p]
        if "ALLSKY_SFC_SW_DWN" in wanted and "ALLSKY_SFC_SW_DWN" not in series and not self.power_verbatim:
            keys = sorted(series["T2M"])
            solar = {}
            for key in keys:
                year, month = int(key[:4]), int(key[4:])
                if month == 13:
                    months = [solar[k] for k in solar if k[:4] == key[:4]]
                    solar[key] = fill if (fill in months or len(months) < 12) else round(sum(months) / 12, 2)
                elif series["T2M"][key] == fill:
                    solar[key] = fill
                else:
                    solar[key] = round(0.72 * _toa_insolation_mj_m2_day(lat, year, month), 2)
            series["ALLSKY_SFC_SW_DWN"] = solar
            data["parameters"]["ALLSKY_SFC_SW_DWN"] = {
                "units": "MJ/m^2/day",
                "longname": "All Sky Surface Shortwave Downward Irradiance",
            }
            data["messages"] = [*data.get("messages", []), SYNTHETIC_SOLAR_MESSAGE]
        return data

    def power_daily(self, query: dict[str, str]) -> dict:
        data = self.real_json("power_daily")
        first, last = query.get("start", "00000000"), query.get("end", "99999999")
        series = data["properties"]["parameter"]
        for name in list(series):
            series[name] = {k: v for k, v in series[name].items() if first <= k <= last}
        return data

    # ----- STAC ----------------------------------------------------------------------------------
    def earth_search_page(self, body: dict) -> dict:
        if body.get("next"):
            return self.real_json("es_page2")
        page = self.real_json("es_page1")
        for link in page["links"]:
            if link["href"].startswith(EARTH_SEARCH_ORIGIN):
                link["href"] = self.earth_search_url + link["href"][len(EARTH_SEARCH_ORIGIN) :]
        return page

    def sas_token(self, collection: str) -> dict:
        with self._lock:
            self.sas_tokens_issued += 1
            number = self.sas_tokens_issued
        expiry = datetime.now(timezone.utc) + timedelta(seconds=self.sas_expiry_s)
        stamp = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "msft:expiry": stamp,
            "token": f"st=2020-01-01T00%3A00%3A00Z&se={stamp.replace(':', '%3A')}&sp=rl&sv=2021-06-08"
            f"&sr=c&skoid=test&sig=test-signature-{collection}-{number}",
        }


_RANGE_RE = re.compile(r"(\d*)-(\d*)")


def _parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    if not header.startswith("bytes="):
        return None
    ranges = []
    for part in header[6:].split(","):
        match = _RANGE_RE.fullmatch(part.strip())
        if not match:
            return None
        start_text, end_text = match.groups()
        if start_text == "":
            length = int(end_text)
            start, end = max(0, size - length), size - 1
        else:
            start = int(start_text)
            end = min(int(end_text), size - 1) if end_text else size - 1
        if start >= size or start > end:
            continue
        ranges.append((start, end))
    return ranges


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        # ----- plumbing ----------------------------------------------------------------------
        def _take_fault(self, path: str) -> Fault | None:
            with server._lock:
                for prefix, queue in server.faults.items():
                    if path.startswith(prefix) and queue:
                        return queue.pop(0)
            return None

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            record = self._record
            record.status = status
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            # Counted as each chunk is handed to the socket (before the write), so a client that hangs
            # up mid-body (GDAL stops reading once it has its bytes) still shows every byte sent its way.
            view = memoryview(body)
            for start in range(0, len(view), WRITE_CHUNK_BYTES):
                chunk = view[start : start + WRITE_CHUNK_BYTES]
                with server._lock:
                    record.bytes_sent += len(chunk)
                self.wfile.write(chunk)

        def _start_record(self) -> None:
            """Log the request as it arrives (before any answer), so none is missed whatever happens next."""
            parts = urlsplit(self.path)
            self._record = RequestRecord(
                self.command, parts.path, parts.query, self.headers.get("Range"), 0, 0, self._body
            )
            with server._lock:
                server.requests.append(self._record)

        def _json(self, obj: Any, status: int = 200) -> None:
            self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

        def _read_body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                return {"_raw": raw.decode("utf-8", "replace")}

        # ----- dispatch ----------------------------------------------------------------------
        def do_HEAD(self) -> None:
            self._body = None
            self._dispatch()

        def do_GET(self) -> None:
            self._body = None
            self._dispatch()

        def do_POST(self) -> None:
            self._body = self._read_body()
            self._dispatch()

        def _dispatch(self) -> None:
            self._start_record()
            with server._lock:
                server._in_flight += 1
            try:
                self._answer()
            finally:
                with server._lock:
                    server._in_flight -= 1

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            fault = self._take_fault(path)
            if fault and fault.kind == "delay":
                time.sleep(fault.seconds)
                fault = None
            if fault and fault.kind == "status":
                self._json({"error": f"injected HTTP {fault.status}"}, status=fault.status)
                return
            if fault and fault.kind == "malformed":
                self._send(200, b"<html><body>Service temporarily unavailable</body></html>", "application/json")
                return
            # A client that gave up (a timeout test) closes the socket mid-answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route(path, query, fault)

        def _route(self, path: str, query: dict[str, str], fault: Fault | None) -> None:
            body = self._body or {}
            if path.startswith("/files/"):
                self._serve_file(path[len("/files/") :], fault)
            elif path == "/power/monthly/point":
                self._json(server.power_monthly(query))
            elif path == "/power/daily/point":
                self._json(server.power_daily(query))
            elif path == "/earth-search/v1/search":
                self._json(server.earth_search_page(body))
            elif path == "/pc/v1/search":
                page = server.real_json("pc_search")
                if fault and fault.kind == "empty":
                    page["features"] = []
                self._json(page)
            elif path.startswith("/pc/sas/v1/token/"):
                self._json(server.sas_token(path.rsplit("/", 1)[1]))
            elif path in ("/stac/v1/search", "/lc/v1/search"):
                api = server.stac if path.startswith("/stac") else server.landcover
                if fault and fault.kind == "empty":
                    api = FakeStacApi([])
                self._json(api.search(body, f"{server.base_url}{path}"))
            else:
                self._json({"code": "NotFound", "description": f"no route {path}"}, status=404)

        def _serve_file(self, name: str, fault: Fault | None) -> None:
            path = server.files.get(name)
            if path is None or not path.exists():
                self._json({"error": f"no file {name}"}, status=404)
                return
            data = path.read_bytes()
            if fault and fault.kind == "truncate":
                data = data[: fault.size]
                # The truncation is sticky for this file: re-queue so GDAL's later reads see it too.
                server.inject(f"/files/{name}", fault)
            size = len(data)
            header = self.headers.get("Range")
            ranges = _parse_ranges(header, size) if header else None
            if header and ranges == []:
                self._send(416, b"", "application/octet-stream", {"Content-Range": f"bytes */{size}"})
                return
            if not ranges:
                self._send(200, data, "image/tiff", {"Accept-Ranges": "bytes"})
                return
            if len(ranges) == 1:
                start, end = ranges[0]
                self._send(
                    206,
                    data[start : end + 1],
                    "image/tiff",
                    {"Content-Range": f"bytes {start}-{end}/{size}", "Accept-Ranges": "bytes"},
                )
                return
            boundary = "ecomapper-byteranges"
            chunks = []
            for start, end in ranges:
                part_header = f"--{boundary}\r\nContent-Type: image/tiff\r\nContent-Range: bytes {start}-{end}/{size}"
                chunks.append(part_header.encode() + b"\r\n\r\n")
                chunks.append(data[start : end + 1] + b"\r\n")
            chunks.append(f"--{boundary}--\r\n".encode())
            self._send(206, b"".join(chunks), f"multipart/byteranges; boundary={boundary}")

    return Handler
