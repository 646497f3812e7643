"""core.io.http against a tiny local server: dropped connections are retried (POST too), the cache
is keyed by the whole request, and offline mode answers only from the cache."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import OfflineCacheMissError, UpstreamError
from core.io.http import HttpClient


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.drop_next = 0  # connections to close without an answer
        self.answered: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            drop = self.server.drop_next > 0
            self.server.drop_next -= int(drop)
            if not drop:
                self.server.answered.append((self.command, self.path, body))
        if drop:
            self.connection.shutdown(socket.SHUT_RDWR)  # the client sees a dropped connection
            self.close_connection = True
            return
        payload = json.dumps({"path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # keep the test output clean
        return


@pytest.fixture
def server():
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_a_dropped_connection_is_retried_also_for_a_post(server, settings):
    client = HttpClient(settings.with_(retries=2))
    server.drop_next = 2
    data = client.post_json(server.url + "/search", {"limit": 1}, service="test")
    assert data == {"path": "/search", "body": '{"limit": 1}'}
    assert len(server.answered) == 1 and server.drop_next == 0
    server.drop_next = 5  # more drops than retries: our error, naming the service and URL
    with pytest.raises(UpstreamError, match=r"Could not reach test at http://127\.0\.0\.1:\d+/other"):
        client.post_json(server.url + "/other", {"limit": 1}, service="test")


def test_the_cache_is_keyed_by_method_url_params_and_body(server, settings):
    client = HttpClient(settings)
    for _ in range(2):
        client.get_json(server.url + "/a", service="test", params={"x": 1})
        client.get_json(server.url + "/a", service="test", params={"x": 2})
        client.post_json(server.url + "/a", {"x": 1}, service="test")
        client.post_json(server.url + "/a", {"x": 2}, service="test")
    assert [(m, p) for m, p, _ in server.answered] == [
        ("GET", "/a?x=1"),
        ("GET", "/a?x=2"),
        ("POST", "/a"),
        ("POST", "/a"),
    ]
    # a fresh client on the same cache folder (another process) is served from disk too
    again = HttpClient(settings).get_json(server.url + "/a", service="test", params={"x": 2})
    assert again["path"] == "/a?x=2" and len(server.answered) == 4


def test_offline_mode_serves_only_from_the_cache(server, settings):
    HttpClient(settings).get_json(server.url + "/kept", service="test")
    offline = HttpClient(settings.with_(offline=True))
    assert offline.get_json(server.url + "/kept", service="test")["path"] == "/kept"
    with pytest.raises(OfflineCacheMissError, match="Offline mode is on and test data for GET .*/missing"):
        offline.get_json(server.url + "/missing", service="test")
    assert [p for _, p, _ in server.answered] == ["/kept"]
