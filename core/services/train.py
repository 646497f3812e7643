"""Fine-tuning, as `python -m core train` runs it: a TOML config (LoRA, ControlNet, full, or the weather
DiffusionSat), command-line overrides applied once, then the trainer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import Settings


@dataclass(frozen=True)
class TrainingPlan:
    """A checked config ready to train: `kind` "sd3" (`core.train`) or "diffusionsat-weather"."""

    kind: str
    config: Any


def plan_training(
    config_path: str | Path,
    *,
    data_dir: str | None = None,
    output_dir: str | None = None,
    max_steps: int | None = None,
    resume: str | None = None,
    paper: bool = False,
    mixed_precision: str | None = None,
) -> TrainingPlan:
    """Read the TOML and apply the overrides; a bad value fails here, before any model loads.

    The TOML's data_dir is checked after `data_dir` has replaced it (the paper presets name a
    stand-in folder). `paper` puts the original scripts' settings over the TOML's
    (`core.train.config.paper_overrides`); `mixed_precision` then still wins (bf16 is offered).
    """
    from core.train import load_train_config
    from core.train.diffusionsat_weather import weather_config_if_asked

    weather = weather_config_if_asked(config_path, data_dir=data_dir, output_dir=output_dir, max_steps=max_steps)
    if weather is not None:
        return TrainingPlan("diffusionsat-weather", weather)
    config = load_train_config(config_path, check_paths=data_dir is None)
    if paper:
        from core.train.config import paper_overrides

        config = config.with_overrides(**paper_overrides(config.mode))
    overrides = {
        key: value
        for key, value in (
            ("data__data_dir", data_dir),
            ("output_dir", output_dir),
            ("optim__max_steps", max_steps),
            ("checkpoints__resume", resume),
            ("mixed_precision", mixed_precision),
        )
        if value is not None
    }
    return TrainingPlan("sd3", config.with_overrides(**overrides) if overrides else config)


def run_training(plan: TrainingPlan, settings: Settings) -> Any:
    """Train as planned; returns the trainer's result (losses, weights folder, loss log).

    One trainer per output folder: a second one is refused naming the first's pid (they would interleave
    the loss log and delete each other's checkpoints).
    """
    from core.io.folder_lock import folder_lock

    with folder_lock(plan.config.output_dir, "output_dir"):
        if plan.kind == "diffusionsat-weather":
            from core.train.diffusionsat_weather import train_weather_diffusionsat

            return train_weather_diffusionsat(plan.config, settings)
        from core.train import train

        return train(plan.config, settings)
