"""pytest plugin: tests may open sockets to this machine only (loopback and Unix sockets).

Also points every ECOMAPPER_* endpoint and the Hugging Face Hub at a closed local port, so a test
that forgets to set an endpoint fails fast instead of reaching the internet.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

_ALLOWED_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_CLOSED = "http://127.0.0.1:9"


class NetworkBlockedError(RuntimeError):
    pass


def _is_local(host: object) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in _ALLOWED_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: object) -> None:
    if isinstance(address, (str, bytes)):  # Unix socket path
        return
    host = address[0] if isinstance(address, tuple) else None
    if not _is_local(host):
        raise NetworkBlockedError(f"test tried to reach {address!r}; tests may reach only localhost")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise NetworkBlockedError(f"test tried to resolve {host!r}; tests may reach only localhost")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo


def pytest_configure(config: pytest.Config) -> None:
    install()
    endpoints = ("STAC_URL", "PC_STAC_URL", "PC_SAS_URL", "LANDCOVER_STAC_URL", "POWER_URL", "HF_ENDPOINT")
    for name in (*endpoints, "CMIP6_CATALOG_URL"):
        os.environ[f"ECOMAPPER_{name}"] = _CLOSED
    # Place names from the nearest-town gazetteer, not a boundary file fetched from the internet
    # (empty, not unset, is that choice); the tests about boundaries give a local file or server.
    os.environ["ECOMAPPER_BOUNDARIES_URL"] = ""
    os.environ["HF_ENDPOINT"] = _CLOSED
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("GDAL_HTTP_TIMEOUT", "20")
    # GDAL reads rasters with libcurl, which the socket patch above cannot see: route every
    # non-local URL to a closed local port through the proxy variables libcurl honours.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ[name] = "http://127.0.0.1:9"
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["no_proxy"] = "127.0.0.1,localhost"
