"""A local slippy-map tile server on 127.0.0.1 for the OpenStreetMap layout tests.

Each 256 px tile is one flat colour that encodes where it is (R = x mod 256, G = y mod 256,
B = zoom), so a test can tell which tile every pixel of a stitched layout came from.
"""

from __future__ import annotations

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

TILE_RE = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.png$")


def tile_colour(zoom: int, x: int, y: int) -> tuple[int, int, int]:
    return x % 256, y % 256, zoom


class TileServer:
    """Serves `/tiles/{z}/{x}/{y}.png`; `requests` lists the paths asked for; `broken` serves non-images."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.broken = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                from PIL import Image

                server.requests.append(self.path)
                match = TILE_RE.match(self.path)
                if match is None:
                    self.send_error(404)
                    return
                zoom, x, y = (int(v) for v in match.groups())
                if server.broken:
                    body, kind = b"<html>rate limited</html>", "text/html"
                else:
                    tile = np.zeros((256, 256, 3), np.uint8)
                    tile[:] = tile_colour(zoom, x, y)
                    buffer = io.BytesIO()
                    Image.fromarray(tile).save(buffer, format="PNG")
                    body, kind = buffer.getvalue(), "image/png"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url_template(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/tiles/{{z}}/{{x}}/{{y}}.png"

    def __enter__(self) -> TileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
