"""Evaluation sharded over the workers of a dask cluster (one GPU each), beside `accelerate launch`.

Shard i of N runs steps 1-3 of `core.evaluation.run.evaluate` as "process i of N": it walks the same
selection as every other shard, generates and scores every N-th sample still to do, with the seed
fixed by the sample (`sample_seed`), and appends to its own `results/part-<i>.jsonl`. The driver
then writes the tables from every part, as the main process does under accelerate, so the union
equals a single-process run. Each task is one process on one worker: on GPU machines start one
worker per GPU (`CUDA_VISIBLE_DEVICES=k dask worker ... --nthreads 1`, or dask-cuda's
`dask cuda worker`), and the worker's "auto" device is its GPU.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from core.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardState:
    """What `evaluate_share` needs of accelerate's `PartialState`, for shard `process_index` of
    `num_processes` outside `accelerate launch` (no collective calls: the driver gathers)."""

    process_index: int
    num_processes: int
    is_main_process: bool = False
    # one worker, one GPU: the GPU a worker sees is its device 0
    local_process_index: int = 0

    def wait_for_everyone(self) -> None:
        """Nothing to wait for: the driver waits for the tasks."""


@dataclass(frozen=True)
class ShardOutcome:
    """What one shard did, and what it saw of the selection (every shard walks all of it)."""

    process_index: int
    generated: int
    pending: int
    selected: int
    no_control: int
    bad: tuple[Any, ...]


def evaluate_shard(config: Any, settings: Settings, process_index: int, num_processes: int) -> ShardOutcome:
    """Generate and score shard `process_index` of `num_processes` (the task a dask worker runs)."""
    from core.evaluation.run import evaluate_share

    state = ShardState(process_index, num_processes)
    run, generated, pending = evaluate_share(config, settings, state)
    selector = run.selector
    return ShardOutcome(process_index, generated, pending, selector.selected, selector.no_control, tuple(selector.bad))


def evaluate_on_cluster(
    config: Any, settings: Settings, scheduler: str, shards: int | None = None, progress: Any = None
) -> Any:
    """`evaluate` with the samples split over a dask cluster's workers; returns the `EvaluationReport`.

    Args:
        config: an `EvaluationConfig`.
        settings: sent to every worker (paths must be the same there: a shared file system).
        scheduler: `tcp://host:8786` or `local:N` (`core.io.dask_cluster`).
        shards: how many shards; default one per worker of the cluster.
        progress: optional callable(done, total, message) as shards finish.
    """
    from distributed import as_completed

    from core.evaluation.run import _check_before_loading, _prepare_run, write_outputs
    from core.io.dask_cluster import dask_client

    started = time.perf_counter()
    _check_before_loading(config, None)  # a bad folder or model id fails here, not on every worker
    with dask_client(scheduler) as client:
        count = shards or len(client.scheduler_info()["workers"])
        futures = [client.submit(evaluate_shard, config, settings, index, count, pure=False) for index in range(count)]
        outcomes: list[ShardOutcome] = []
        for done, future in enumerate(as_completed(futures, loop=client.loop), start=1):
            outcomes.append(future.result())  # a shard's error is the run's error, as under accelerate
            if progress:
                progress(done, count, f"shard {outcomes[-1].process_index} finished")
    first = min(outcomes, key=lambda outcome: outcome.process_index)
    run = _prepare_run(config, settings, None, ShardState(0, count, is_main_process=True))
    run.selector.selected, run.selector.no_control, run.selector.bad = first.selected, first.no_control, list(first.bad)
    run.dataset = run.dataset.without(run.selector.bad)
    generated = sum(outcome.generated for outcome in outcomes)
    log.info("%d shards generated %d samples", count, generated)
    state = ShardState(0, count, is_main_process=True)
    return write_outputs(run, config, state, generated, first.selected - first.pending, started)
