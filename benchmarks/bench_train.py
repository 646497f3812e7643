"""Training speed with and without the latent + text-embedding cache (tiny random SD3, CPU by default).

    .venv/bin/python benchmarks/bench_train.py [--steps 20] [--resolution-px 128] [--batch-size 2]

Uses the real EcoMapper samples in ../shared/fixtures/ecomapper_example. Prints steps per second of
the optimisation loop for both runs side by side, their ratio, the one-off cost of filling the cache,
and checks that both runs saw the same losses.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "fixtures" / "ecomapper_example" / "2017-2018"


def _step_seconds(loss_csv: Path) -> list[float]:
    """Duration of every step after the first (loss.csv has the loop's elapsed time at each step)."""
    with loss_csv.open(newline="") as handle:
        elapsed = [float(row["elapsed_s"]) for row in csv.DictReader(handle)]
    return [b - a for a, b in itertools.pairwise(elapsed)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--resolution-px", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each kind; the best is kept")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared EcoMapper samples at {DATA}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING)

    import torch

    from core.config import Settings
    from core.train import TrainConfig, train

    settings = Settings.from_env().with_(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        raw = {
            "mode": "lora",
            "base_model": "tiny-random",
            "output_dir": str(Path(tmp) / "plain"),
            "data": {"data_dir": str(DATA), "resolution_px": args.resolution_px, "max_sequence_length": 128},
            "optim": {"learning_rate": 1e-3, "batch_size": args.batch_size, "max_steps": args.steps},
            "lora": {"rank": 4, "alpha": 4.0},
            "checkpoints": {"every_steps": 0, "resume": "none"},
        }
        base = TrainConfig.from_dict(raw)
        cache_dir = Path(tmp) / "cache"
        # warm-up run (imports, first allocations) that also fills the cache once
        fill_started = time.perf_counter()
        train(
            base.with_overrides(
                output_dir=str(Path(tmp) / "fill"), cache_latents=True, cache_dir=str(cache_dir), optim__max_steps=1
            ),
            settings,
        )
        fill_s = time.perf_counter() - fill_started
        latents = len(list((cache_dir / "latents").glob("*.safetensors")))
        texts = len(list((cache_dir / "text").glob("*.safetensors")))
        # Alternate the two kinds and keep each one's best median step time: robust to a busy machine.
        plain_medians, cached_medians, same = [], [], True
        for repeat in range(args.repeats):
            plain = train(base.with_overrides(output_dir=str(Path(tmp) / f"plain{repeat}")), settings)
            cached = train(
                base.with_overrides(
                    output_dir=str(Path(tmp) / f"cached{repeat}"), cache_latents=True, cache_dir=str(cache_dir)
                ),
                settings,
            )
            plain_medians.append(statistics.median(_step_seconds(plain.loss_csv)))
            cached_medians.append(statistics.median(_step_seconds(cached.loss_csv)))
            same = same and all(
                abs(a - b) <= 1e-4 * max(1.0, abs(a))
                for (_, a), (_, b) in zip(plain.losses, cached.losses, strict=True)
            )
        plain_rate = 1.0 / min(plain_medians)
        cached_rate = 1.0 / min(cached_medians)
    print(
        f"tiny-random LoRA, {args.steps} steps, batch {args.batch_size}, {args.resolution_px} px, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, best of {args.repeats} (median step time)"
    )
    print(f"{'':24}{'uncached':>12}{'cached':>12}{'ratio':>10}")
    print(f"{'steps/s':24}{plain_rate:12.2f}{cached_rate:12.2f}{cached_rate / plain_rate:9.2f}x")
    print(f"{'s/step':24}{1 / plain_rate:12.4f}{1 / cached_rate:12.4f}")
    print(f"cache fill + 1 step (one-off: {latents} latents, {texts} prompt embeddings): {fill_s:.2f} s")
    print(f"same losses cached vs uncached: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
