"""Evaluation throughput with one and two processes, and the FID feature pass batched vs per image.

Run: .venv/bin/python benchmarks/bench_evaluate.py [--data DIR] [--limit N] [--steps N] [--size PX]

Part 1 runs `python -m core evaluate --model tiny-random` on the EcoMapper example dataset, once in
one process and once split over two processes with `torchrun` (gloo on the CPU), each into a fresh
output folder, and prints samples/s of the whole command (model loading included) side by side.
Part 2 times the FID Inception-v3 feature pass (random weights: speed does not depend on them)
over the same real images, batched versus one image at a time.
Numbers are measured here and printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "fixtures" / "ecomapper_example"


def _run_evaluate(data: Path, out: Path, limit: int, steps: int, size: int, processes: int) -> float:
    command = [
        "-m", "core", "evaluate", "--model", "tiny-random", "--data", str(data), "--out", str(out),
        "--limit", str(limit), "--steps", str(steps), "--size", str(size), "--no-download",
    ]  # fmt: skip
    if processes == 1:
        argv = [sys.executable, *command]
    else:
        torchrun = Path(sys.executable).with_name("torchrun")
        argv = [str(torchrun), "--nproc_per_node", str(processes), *command]
    env = {**os.environ, "PYTHONPATH": str(REPO), "ECOMAPPER_DEVICE": "cpu"}
    started = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generated_this_run"] == limit, summary
    # steady state: per process, samples after its first one over the time they took; summed
    loop_rate = 0.0
    for part in sorted((out / "results").glob("part-*.jsonl")):
        stamps = sorted(json.loads(line)["finished_at"] for line in part.read_text().splitlines())
        if len(stamps) > 1 and stamps[-1] > stamps[0]:
            loop_rate += (len(stamps) - 1) / (stamps[-1] - stamps[0])
    return elapsed, loop_rate


def bench_throughput(data: Path, limit: int, steps: int, size: int) -> None:
    print(f"== evaluate tiny-random on {limit} samples ({steps} steps, {size} px), whole command incl. loading")
    rows = []
    for processes in (1, 2):
        out = Path(tempfile.mkdtemp(prefix=f"bench-eval-{processes}p-"))
        try:
            elapsed, loop_rate = _run_evaluate(data, out, limit, steps, size, processes)
            same = (out / "tables" / "models.csv").read_text()
        finally:
            shutil.rmtree(out, ignore_errors=True)
        rows.append((processes, elapsed, limit / elapsed, loop_rate, same))
    base, base_loop = rows[0][2], rows[0][3]
    print(f"{'processes':>10} {'seconds':>9} {'samples/s':>10} {'vs 1':>6} {'loop samples/s':>15} {'vs 1':>6}")
    for processes, elapsed, rate, loop_rate, _ in rows:
        print(
            f"{processes:>10} {elapsed:>9.2f} {rate:>10.3f} {rate / base:>5.2f}x "
            f"{loop_rate:>15.3f} {loop_rate / base_loop:>5.2f}x"
        )
    print("(samples/s: whole command incl. start-up and model loading; loop: steady state after the first sample)")
    print(f"tables identical: {rows[0][4] == rows[1][4]}")


def bench_fid_features(data: Path, n_images: int) -> None:
    import numpy as np
    import torch

    from core.dataset.reader import read_dataset
    from core.metrics.fid import FidMetric
    from core.metrics.inception import FidInceptionV3

    dataset = read_dataset(data)
    images = np.stack([dataset[i].image for i in range(min(n_images, len(dataset)))])
    torch.manual_seed(0)
    network = FidInceptionV3().eval()
    for module in network.modules():  # He init keeps activations at a realistic scale
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    print(f"\n== FID Inception-v3 feature pass over {len(images)} real 512 px images (torch threads: "
          f"{torch.get_num_threads()})")  # fmt: skip
    timings = {}
    features = {}
    for label, batch in (("per image (naive loop)", 1), ("batched x8", 8), ("batched x16", 16)):
        metric = FidMetric(feature_extractor=network, batch_size=batch)
        metric.features(images[:2])  # warm-up
        started = time.perf_counter()
        features[label] = metric.features(images)
        timings[label] = time.perf_counter() - started
    naive = timings["per image (naive loop)"]
    print(f"{'variant':>24} {'seconds':>9} {'images/s':>9} {'speed-up':>9}")
    for label, seconds in timings.items():
        print(f"{label:>24} {seconds:>9.2f} {len(images) / seconds:>9.2f} {naive / seconds:>8.2f}x")
    diff = max(float(np.abs(features[k] - features["per image (naive loop)"]).max()) for k in features)
    scale = float(np.abs(features["per image (naive loop)"]).mean())
    print(f"max feature difference between variants: {diff:.2e} (mean |feature| {scale:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--fid-images", type=int, default=48)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"dataset {args.data} not found; pass --data")
    sys.path.insert(0, str(REPO))
    if not args.skip_throughput:
        bench_throughput(args.data, args.limit, args.steps, args.size)
    bench_fid_features(args.data, args.fid_images)


if __name__ == "__main__":
    main()
