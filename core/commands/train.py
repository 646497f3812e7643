"""`python -m core train --config train.toml`: LoRA or ControlNet fine-tuning (see core.train)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.config import Settings

HELP = "fine-tune SD3 (LoRA or ControlNet) or weather-metadata DiffusionSat on an EcoMapper dataset (TOML config)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="training config (TOML), see assets/presets/")
    parser.add_argument("--data-dir", type=Path, help="override [data] data_dir")
    parser.add_argument("--output-dir", type=Path, help="override output_dir")
    parser.add_argument("--max-steps", type=int, help="override [optim] max_steps")
    parser.add_argument("--resume", help='override [checkpoints] resume: "latest", "none" or a checkpoint folder')


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.train.diffusionsat_weather import weather_config_if_asked

    weather = weather_config_if_asked(
        args.config, data_dir=args.data_dir, output_dir=args.output_dir, max_steps=args.max_steps
    )
    if weather is not None:  # mode = "diffusionsat-weather"
        return _train_weather(weather, settings)
    from core.train import load_train_config, train

    # The TOML's data_dir is checked after --data-dir has replaced it (the paper presets name a
    # stand-in folder), by `train` before any model loads.
    config = load_train_config(args.config, check_paths=args.data_dir is None)
    overrides = {}
    if args.data_dir is not None:
        overrides["data__data_dir"] = args.data_dir
    if args.output_dir is not None:
        overrides["output_dir"] = args.output_dir
    if args.max_steps is not None:
        overrides["optim__max_steps"] = args.max_steps
    if args.resume is not None:
        overrides["checkpoints__resume"] = args.resume
    if overrides:
        config = config.with_overrides(**overrides)
    result = train(config, settings)
    if not result.is_main_process:
        return 0
    first = result.losses[:5]
    last = result.losses[-5:]
    print(f"trained {config.mode} steps {result.start_step}->{result.final_step} in {result.elapsed_s:.1f} s")
    if first:
        mean_first = sum(loss for _, loss in first) / len(first)
        mean_last = sum(loss for _, loss in last) / len(last)
        print(f"loss: first {len(first)} steps mean {mean_first:.4f}, last {len(last)} steps mean {mean_last:.4f}")
    print(f"weights: {result.weights_dir}")
    print(f"loss log: {result.loss_csv}")
    return 0


def _train_weather(config, settings: Settings) -> int:
    from core.train.diffusionsat_weather import MODE, train_weather_diffusionsat

    result = train_weather_diffusionsat(config, settings)
    first, last = result.losses[0][1], result.losses[-1][1]
    print(f"trained {MODE} {len(result.losses)} steps in {result.elapsed_s:.1f} s (loss {first:.4f} -> {last:.4f})")
    print(f"weights: {result.output_dir} (put it at checkpoints/diffusionsat-weather/ to generate with it)")
    print(f"loss log: {result.loss_csv}")
    return 0
