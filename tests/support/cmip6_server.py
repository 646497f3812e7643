"""A static file server on 127.0.0.1 standing in for the CMIP6 buckets' anonymous HTTPS (tests, benchmarks).

Serves a folder written by `tests/data/make_cmip6_store.py` under `/cmip6/` (so `gs://cmip6/X`
maps to `<base_url>/cmip6/X`, as `https://storage.googleapis.com/cmip6/X` does), answers 404 for
missing keys like the buckets, counts requests and bytes, and can be switched to "down" (503).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Served:
    path: str
    status: int
    bytes_sent: int


class Cmip6Server:
    """Use as a context manager; `base_url`, `bucket_url` (the mirror root), `requests`, `down`, `latency_s`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.requests: list[Served] = []
        self.down = False
        # seconds each answer waits, as a round trip to a real bucket does (benchmarks)
        self.latency_s = 0.0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> Cmip6Server:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> Cmip6Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def bucket_url(self) -> str:
        return f"{self.base_url}/cmip6"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def bytes_served(self) -> int:
        with self._lock:
            return sum(r.bytes_sent for r in self.requests)

    def _record(self, path: str, status: int, sent: int) -> None:
        with self._lock:
            self.requests.append(Served(path, status, sent))


def _make_handler(server: Cmip6Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/octet-stream") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)
            server._record(urlsplit(self.path).path, status, len(body) if self.command != "HEAD" else 0)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if server.latency_s:
                time.sleep(server.latency_s)
            if server.down:
                self._send(503, b"<Error><Code>ServiceUnavailable</Code></Error>", "application/xml")
                return
            path = unquote(urlsplit(self.path).path)
            if not path.startswith("/cmip6/"):
                self._send(404, b"<Error><Code>NoSuchBucket</Code></Error>", "application/xml")
                return
            target = (server.root / path[len("/cmip6/") :]).resolve()
            if server.root not in target.parents or not target.is_file():
                # What GCS and S3 answer for a key that does not exist.
                self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
                return
            content_type = "text/csv" if target.suffix == ".csv" else "application/octet-stream"
            self._send(200, target.read_bytes(), content_type)

    return Handler
