"""`python -m core train --config train.toml`: LoRA or ControlNet fine-tuning (see core.train)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._common import add_out_argument
from core.config import Settings

HELP = "fine-tune SD3 (LoRA or ControlNet) or weather-metadata DiffusionSat on an EcoMapper dataset (TOML config)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="training config (TOML), see assets/presets/")
    parser.add_argument("--data-dir", type=Path, help="override [data] data_dir")
    add_out_argument(parser, "override output_dir", "--output-dir", required=False)
    parser.add_argument("--max-steps", type=int, help="override [optim] max_steps")
    parser.add_argument("--resume", help='override [checkpoints] resume: "latest", "none" or a checkpoint folder')
    parser.add_argument(
        "--paper",
        action="store_true",
        help="the original scripts' settings over the config's: fp16, seed 7777, skip_date_location captions, no "
        "shuffling, lr 2e-6, weight decay 1e-2, x0 loss, the VAE shift and control range per mode (docs/training.md)",
    )
    parser.add_argument(
        "--mixed-precision", choices=("no", "fp16", "bf16"), help="override mixed_precision (paper: fp16; bf16 offered)"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.services.train import plan_training, run_training

    plan = plan_training(
        args.config,
        data_dir=args.data_dir,
        output_dir=args.out,
        max_steps=args.max_steps,
        resume=args.resume,
        paper=args.paper,
        mixed_precision=args.mixed_precision,
    )
    result = run_training(plan, settings)
    if plan.kind == "diffusionsat-weather":
        return _report_weather(result)
    if not result.is_main_process:
        return 0
    first = result.losses[:5]
    last = result.losses[-5:]
    print(f"trained {plan.config.mode} steps {result.start_step}->{result.final_step} in {result.elapsed_s:.1f} s")
    if first:
        mean_first = sum(loss for _, loss in first) / len(first)
        mean_last = sum(loss for _, loss in last) / len(last)
        print(f"loss: first {len(first)} steps mean {mean_first:.4f}, last {len(last)} steps mean {mean_last:.4f}")
    print(f"weights: {result.weights_dir}")
    print(f"loss log: {result.loss_csv}")
    return 0


def _report_weather(result) -> int:
    first, last = result.losses[0][1], result.losses[-1][1]
    print(
        f"trained diffusionsat-weather {len(result.losses)} steps in {result.elapsed_s:.1f} s "
        f"(loss {first:.4f} -> {last:.4f})"
    )
    print(f"weights: {result.output_dir} (put it at checkpoints/diffusionsat-weather/ to generate with it)")
    print(f"loss log: {result.loss_csv}")
    return 0
