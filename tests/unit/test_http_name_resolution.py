"""Offline is quiet and fast: a host name that does not resolve fails at once, is not retried, and is
remembered for a minute, while a refused connection on loopback is still retried."""

from __future__ import annotations

import socket
import time

import pytest

from core.errors import UpstreamError
from core.io import http
from core.io.http import HttpClient


@pytest.fixture
def no_dns(monkeypatch):
    """The resolver of a machine without network: every name fails (gaierror), as getaddrinfo does offline."""
    calls: list[str] = []

    def unresolvable(host, *args, **kwargs):
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # the test run's proxy is local
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    monkeypatch.setattr(http, "_UNRESOLVED_HOSTS", {})
    return calls


def test_an_unresolved_host_fails_once_without_retries_and_then_at_once(settings, no_dns, caplog):
    client = HttpClient(settings.with_(retries=3, backoff_s=1.0))
    started = time.monotonic()
    with pytest.raises(UpstreamError, match="does not resolve") as first:
        client.get_json("https://stac.example.org/v1/search", service="STAC API")
    assert no_dns == ["stac.example.org"]  # one look-up: no retry, no backoff
    assert "within" not in str(first.value)  # not reported as a timeout
    with pytest.raises(UpstreamError, match="did not resolve a moment ago"):
        client.get_json("https://stac.example.org/v1/collections", service="STAC API")
    assert no_dns == ["stac.example.org"]  # remembered: no second look-up
    assert time.monotonic() - started < 1.0  # a backoff of 1 s would show
    assert not [r for r in caplog.records if "Retrying" in r.getMessage()]  # no urllib3 retry warnings


def test_a_refused_connection_is_still_retried(settings):
    client = HttpClient(settings.with_(retries=2, backoff_s=0.0))
    with pytest.raises(UpstreamError, match="Could not reach") as refused:
        client.get_json("http://127.0.0.1:9/nothing", service="closed port")
    assert "resolve" not in str(refused.value)
