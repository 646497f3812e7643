"""The replay server's byte count cannot miss a request, even one the client abandons mid-body."""

import socket
import time
from urllib.parse import urlsplit

import requests


def test_a_client_that_hangs_up_mid_body_is_still_counted(replay_server):
    host, port = urlsplit(replay_server.base_url).netloc.split(":")
    received = b""
    with socket.socket() as conn:
        # a small receive window: the server's write blocks mid-body, as with a real remote client
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.settimeout(5)
        conn.connect((host, int(port)))
        conn.sendall(b"GET /files/tci.tif HTTP/1.1\r\nHost: x\r\n\r\n")
        while len(received) < 4096:  # headers and a little of the body, then hang up as GDAL does
            received += conn.recv(4096)
    deadline = time.monotonic() + 5  # the server notices the hang-up on its next write
    while replay_server.bytes_served("tci.tif") < len(received) and time.monotonic() < deadline:
        time.sleep(0.01)
    body_received = len(received.split(b"\r\n\r\n", 1)[1])
    assert len(replay_server.requests_to("/files/tci.tif")) == 1
    assert replay_server.bytes_served("tci.tif") >= body_received > 0


def test_whole_answers_are_counted_exactly(replay_server):
    answer = requests.get(replay_server.file_url("tci.tif"), headers={"Range": "bytes=100-1123"}, timeout=5)
    assert answer.status_code == 206 and len(answer.content) == 1024
    whole = requests.get(replay_server.file_url("tci.tif"), timeout=5)
    assert replay_server.bytes_served("tci.tif") == 1024 + len(whole.content)
    assert [r.status for r in replay_server.requests_to("/files/tci.tif")] == [206, 200]
