"""build-dataset on a dask.distributed cluster: one task per (place, months not on disk yet).

Each task (`core.dataset.builder.build_place_batch`) fetches and writes its own files, atomically and
only where they are missing, so the output folder must be the same path on every worker (one machine,
or a shared file system). The driver only gathers what the tasks report: contexts for
`locations.csv`, written paths, failures (a task that dies, or a lost worker, becomes a listed
failure of that place's months instead of ending the build), and progress as tasks finish.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.geo import Month

log = logging.getLogger(__name__)


def build_on_cluster(
    task: Callable[..., Any], run: Any, locations: list[Any], missing: dict[str, list[Month]], scheduler: str
) -> None:
    """Run `task` (`core.dataset.builder.build_place_batch`) for every location on the cluster `scheduler`
    names, filling `run` (the builder's `_Run`) as the tasks finish; the files do not depend on the order."""
    from distributed import as_completed

    from core.io.dask_cluster import dask_client

    with dask_client(scheduler) as client:
        futures = {
            # pure=False: a rerun of the same build must run the task again, not reuse a result
            client.submit(task, run.root, loc, run.months, run.settings, run.size_px, pure=False): loc
            for loc in locations
        }
        log.info("%d place tasks submitted to %s", len(futures), scheduler)
        for future in as_completed(futures, loop=client.loop):
            loc = futures[future]
            try:
                batch = future.result()
            except Exception as err:  # any task error (or a lost worker) becomes a listed failure
                log.warning("task for %s failed on the cluster: %r", loc.location_id, err)
                for month in missing[loc.location_id]:
                    run.record_error(loc, month, "worker", f"{type(err).__name__}: {err}")
            else:
                if batch.context is not None:
                    run.contexts[loc.location_id] = batch.context
                for month, path, failure in batch.outcomes:
                    run.record(loc, month, path, failure)
            run.check_cancel(futures)
