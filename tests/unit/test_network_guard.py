import socket

import pytest

from tests.network_guard import NetworkBlockedError


def test_guard_blocks_a_public_address():
    with pytest.raises(NetworkBlockedError, match="only localhost"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_guard_blocks_name_resolution_of_a_public_host():
    with pytest.raises(NetworkBlockedError, match="example.org"):
        socket.getaddrinfo("example.org", 443)


def test_guard_allows_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
        assert client.getpeername()[1] == port
    server.close()
