"""The scheduler setting: an existing cluster, a local one, this process; anything else is one line."""

from __future__ import annotations

import pytest

from core.errors import BadRequestError, UpstreamError
from core.io.dask_cluster import check_scheduler, dask_client


@pytest.mark.parametrize("address", ["", "  ", "tcp://10.0.0.5:8786", "tls://head:8786", "local:1", "local:8"])
def test_accepted_schedulers(address):
    assert check_scheduler(address) == address.strip()


@pytest.mark.parametrize("address", ["10.0.0.5:8786", "local", "local:two", "http://h:8786"])
def test_other_values_are_refused_naming_the_flag(address):
    with pytest.raises(BadRequestError, match=r"^ECOMAPPER_DASK_SCHEDULER .* is not a dask scheduler\. Give tcp://"):
        check_scheduler(address, "ECOMAPPER_DASK_SCHEDULER")


@pytest.mark.parametrize("address", ["local:0", "local:65"])
def test_a_local_cluster_size_outside_its_range_is_refused(address):
    with pytest.raises(BadRequestError, match=r"^--scheduler local:N = \d+ is outside 1\.\.64 worker processes"):
        check_scheduler(address)


def test_no_scheduler_at_the_address_is_an_upstream_error(monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr("core.io.dask_cluster.CONNECT_TIMEOUT_S", 2)
    refused = pytest.raises(UpstreamError, match=f"No dask scheduler answered at tcp://127.0.0.1:{port}")
    with refused, dask_client(f"tcp://127.0.0.1:{port}"):
        pass


def test_cli_refuses_a_bad_scheduler_before_any_fetch(tmp_path, capsys):
    from core.cli import main

    argv = ["build-dataset", "--sample", "2", "--start", "2020-02", "--end", "2020-02", "--scheduler", "8786"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --scheduler '8786' is not a dask scheduler.") and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()
