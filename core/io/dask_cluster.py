"""The dask.distributed client named by `ECOMAPPER_DASK_SCHEDULER` / `--scheduler`.

`tcp://host:8786` joins an existing cluster (started with `dask scheduler` / `dask worker`, dask-jobqueue
or dask-kubernetes), `local:N` starts a LocalCluster of N worker processes for the run, and an empty
value means "no cluster: this process" (callers keep their in-process path).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.errors import BadRequestError, UpstreamError

log = logging.getLogger(__name__)

_LOCAL = re.compile(r"local:(\d+)")
_REMOTE = re.compile(r"(tcp|tls|ws|wss|inproc)://\S+")
# Enough for a scheduler on another machine to answer, short enough that a typo fails fast.
CONNECT_TIMEOUT_S = 30


def check_scheduler(address: str, flag: str = "--scheduler") -> str:
    """`address` stripped if it is empty, `local:N` or a scheduler URL; otherwise a one-line error."""
    address = (address or "").strip()
    if not address or _REMOTE.fullmatch(address):
        return address
    local = _LOCAL.fullmatch(address)
    if local:
        from core import limits

        limits.LOCAL_DASK_WORKERS.check(f"{flag} local:N", int(local.group(1)))
        return address
    raise BadRequestError(
        f"{flag} {address!r} is not a dask scheduler.",
        "Give tcp://host:8786 (a running `dask scheduler`), local:N (N worker processes on this machine) "
        "or nothing (this process).",
    )


@contextmanager
def dask_client(address: str, flag: str = "--scheduler") -> Iterator[Any]:
    """A `distributed.Client` for `address` (see the module docstring), closed (and a local cluster
    stopped) on exit.

    Raises:
        BadRequestError: the address is not one of the accepted forms.
        UpstreamError: no scheduler answers at the address.
    """
    address = check_scheduler(address, flag)
    if not address:
        raise BadRequestError(f"{flag} is empty: no cluster to connect to.", "Give tcp://host:8786 or local:N.")
    from distributed import Client, LocalCluster

    local = _LOCAL.fullmatch(address)
    if local:
        # Processes, not threads: the work holds the GIL while it decodes and encodes images.
        workers = int(local.group(1))
        log.info("starting a local dask cluster of %d worker processes", workers)
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise UpstreamError(
            f"No dask scheduler answered at {address} ({err}).",
            "Start one with `dask scheduler` (and `dask worker ADDRESS` on each machine), or unset "
            "ECOMAPPER_DASK_SCHEDULER / leave out --scheduler to run in this process.",
        ) from err
    with client:
        yield client
