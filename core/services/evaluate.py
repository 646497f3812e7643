"""Evaluation of a model on an EcoMapper dataset (the paper's metrics and tables), and of gap filling."""

from __future__ import annotations

from typing import Any

from core.config import Settings


def evaluation_config(paper_conventions: bool = False, **fields: Any) -> Any:
    """A checked `core.evaluation.run.EvaluationConfig` (bad values fail before any model loads);
    `paper_conventions` starts from the paper's (torch-fidelity FID input, JPEG q75, CLIP cosine, ...)."""
    from core.evaluation.run import EvaluationConfig

    return (EvaluationConfig.paper if paper_conventions else EvaluationConfig)(**fields)


def evaluate_model(config: Any, settings: Settings, scheduler: str = "", **options: Any) -> Any:
    """Generate for the selected samples, score them and write the report (`core.evaluation.run.evaluate`);
    with `scheduler` (`tcp://host:8786`, `local:N`) the samples are split over that dask cluster's
    workers (`core.evaluation.sharding`), the same tables as one process."""
    if scheduler:
        from core.evaluation.sharding import evaluate_on_cluster

        return evaluate_on_cluster(config, settings, scheduler, **options)
    from core.evaluation.run import evaluate
    from core.io.folder_lock import folder_lock

    # one run per folder (a resume is not a race); the processes of `accelerate launch` lock one part each
    with folder_lock(config.out_dir, "--out"):
        return evaluate(config, settings, **options)


def evaluate_gap_filling(data_dir: str, engine: Any, **options: Any) -> tuple[str, list[Any]]:
    """The gap-filling table (markdown) and its cases, against the nearest clear month and the mean fill."""
    from core.evaluation.gap_filling import run_gap_filling_evaluation
    from core.generation.gapfill import gap_filling_table_markdown

    rows, cases = run_gap_filling_evaluation(data_dir, engine, **options)
    return gap_filling_table_markdown(rows), cases
