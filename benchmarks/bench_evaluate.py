"""Evaluation: seconds before the first sample at 10 and 1,000 dataset files, throughput with one and
two processes at the same thread count, and the FID feature pass against one whole-batch pass.

Run: .venv/bin/python -m benchmarks.bench_evaluate [--against OTHER_CHECKOUT] [--repeats 3]
    [--skip-first-sample] [--skip-throughput] [--skip-fid]

Part 1 writes two datasets (10 and 1,000 PNG+JSON samples; the PNGs are links to the real 512 px
EcoMapper example images, the JSONs their real records with new dates) and runs
`python -m core evaluate --limit 1` on each. Seconds before the first sample = from starting the
command to the start of the first generation (its record's `finished_at` minus `generation_s`), so
interpreter start, imports, the dataset scan, geocoding and model loading are all in it. Goal: the
same at 10 and 1,000 files. `--against` runs the same commands with another checkout's code.
Part 2 runs 16 samples in one process, in two (torchrun, gloo) and on a local dask cluster of one
and two workers (`--scheduler local:N`), every process with the same number of torch threads
(OMP_NUM_THREADS), and prints samples/s with start-up and of the steady state, beside one process.
Part 3 times the FID Inception-v3 feature pass over real images: chunks of 16 (ours) against one
pass over the whole set (the strongest simple alternative). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "fixtures" / "ecomapper_example"
COMMON = ["--model", "tiny-random", "--steps", "2", "--size", "64", "--metrics", "ssim,psnr", "--no-download"]


def write_dataset(example: Path, root: Path, n_files: int) -> Path:
    """n_files samples, 12 months per location, each a link to a real image with its real record."""
    pairs = sorted(
        (png, png.with_suffix(".json")) for png in example.rglob("*.png") if png.with_suffix(".json").exists()
    )
    for index in range(n_files):
        png, record_path = pairs[index % len(pairs)]
        location, month = divmod(index, 12)
        folder = root / f"loc{location:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"loc{location:04d}_2019-{month + 1:02d}"
        record = json.loads(record_path.read_text())
        record["date"] = f"2019-{month + 1:02d}"
        stem.with_suffix(".json").write_text(json.dumps(record))
        stem.with_suffix(".png").symlink_to(png.resolve())
    return root


def _evaluate(tree: Path, data: Path, out: Path, extra: list[str], processes: int = 1, threads: int = 0):
    command = ["-m", "core", "evaluate", "--data", str(data), "--out", str(out), *COMMON, *extra]
    if processes == 1:
        argv = [sys.executable, *command]
    else:
        argv = [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", str(processes)]
        argv += command
    env = {**os.environ, "PYTHONPATH": str(tree), "ECOMAPPER_DEVICE": "cpu"}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    started_wall = time.time()
    subprocess.run(argv, cwd=tree, env=env, check=True, capture_output=True, text=True)
    records = [
        json.loads(line)
        for part in sorted((out / "results").glob("part-*.jsonl"))
        for line in part.read_text().splitlines()
    ]
    return started_wall, records


def bench_first_sample(example: Path, trees: dict[str, Path], repeats: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-eval-scan-"))
    try:
        datasets = {n: write_dataset(example, work / f"data{n}", n) for n in (10, 1000)}
        times: dict[tuple[str, int], list[float]] = {(t, n): [] for t in trees for n in datasets}
        for run in range(repeats):
            for tree_name, tree in trees.items():
                for n, data in datasets.items():
                    out = work / f"out-{tree_name.replace(' ', '_')}-{n}-{run}"
                    started, records = _evaluate(tree, data, out, ["--limit", "1"])
                    first = records[0]
                    times[(tree_name, n)].append(first["finished_at"] - first["generation_s"] - started)
        print(f"== seconds before the first sample (evaluate --limit 1, tiny-random), {repeats} runs each")
        print(f"{'code':11s} {'files':>6s} {'min s':>7s} {'median s':>9s} {'1000 / 10':>10s}")
        for tree_name in trees:
            for n in datasets:
                values = times[(tree_name, n)]
                ratio = statistics.median(values) / statistics.median(times[(tree_name, 10)])
                print(
                    f"{tree_name:11s} {n:6d} {min(values):7.2f} {statistics.median(values):9.2f} "
                    f"{(f'{ratio:.2f}x' if n == 1000 else ''):>10s}"
                )
        if len(trees) > 1:
            names = list(trees)
            for n in datasets:
                a, b = (statistics.median(times[(name, n)]) for name in names)
                print(f"{n} files: {names[0]} / {names[1]} = {a / b:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _loop_rate(records: list[dict]) -> float:
    """Steady-state samples/s: per process, samples after its first over the time they took; summed."""
    by_part: dict[int, list[float]] = {}
    for record in records:
        by_part.setdefault(record.get("rank", 0), []).append(record["finished_at"])
    rate = 0.0
    for stamps in by_part.values():
        stamps.sort()
        if len(stamps) > 1 and stamps[-1] > stamps[0]:
            rate += (len(stamps) - 1) / (stamps[-1] - stamps[0])
    return rate


# (label, torchrun processes, torch threads per process, extra flags): the same total threads in pairs
THROUGHPUT_VARIANTS = (
    ("1 process", 1, 1, []),
    ("2 processes (accelerate/torchrun)", 2, 1, []),
    ("1 dask worker (local:1)", 1, 1, ["--scheduler", "local:1"]),
    ("2 dask workers (local:2)", 1, 1, ["--scheduler", "local:2"]),
    ("1 process, 2 threads", 1, 2, []),
)


def bench_throughput(data: Path, limit: int) -> None:
    rows = []
    for label, processes, threads, extra in THROUGHPUT_VARIANTS:
        out = Path(tempfile.mkdtemp(prefix=f"bench-eval-{processes}p{threads}t-"))
        try:
            started, records = _evaluate(
                REPO, data, out, ["--limit", str(limit), "--batch-size", "1", *extra], processes, threads
            )
            # wall: from starting the command (so a cluster's start-up is in it) to the last record
            elapsed = max(r["finished_at"] for r in records) - started
            # per process: parts are written per rank; rebuild the rank from the part files
            by_rank = []
            for part in sorted((out / "results").glob("part-*.jsonl")):
                rank = int(part.stem.split("-")[1])
                by_rank += [{**json.loads(line), "rank": rank} for line in part.read_text().splitlines()]
            rows.append((label, threads, len(records) / elapsed, _loop_rate(by_rank)))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    base = rows[0]
    print(f"\n== evaluate {limit} samples: workers x torch threads per worker (one sample per batch)")
    print(f"{'':34s} {'threads':>8s} {'samples/s':>10s} {'vs 1':>7s} {'loop samples/s':>15s} {'vs 1':>7s}")
    for label, threads, rate, loop in rows:
        print(f"{label:34s} {threads:8d} {rate:10.3f} {rate / base[2]:6.2f}x {loop:15.3f} {loop / base[3]:6.2f}x")
    print("(samples/s: wall time from the command's start, start-up included; loop: the steady state per worker)")
    print("(on a GPU box each worker holds one GPU: the loop rate scales with GPUs while samples fit the batch)")


def bench_fid_features(data: Path, n_images: int, repeats: int) -> None:
    import numpy as np
    import torch

    from core.dataset.reader import read_dataset
    from core.metrics.fid import DEFAULT_BATCH_SIZE, FidMetric
    from core.metrics.inception import FidInceptionV3

    dataset = read_dataset(data)
    images = np.stack([dataset[i].image for i in range(min(n_images, len(dataset)))])
    torch.manual_seed(0)
    network = FidInceptionV3().eval()
    for module in network.modules():  # He init keeps activations at a realistic scale
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    variants = {
        f"whole set in one pass ({len(images)}; baseline)": FidMetric(
            feature_extractor=network, batch_size=len(images)
        ),
        f"chunks of {DEFAULT_BATCH_SIZE} (ours)": FidMetric(feature_extractor=network, batch_size=DEFAULT_BATCH_SIZE),
    }
    features = {name: metric.features(images[:2]) for name, metric in variants.items()}  # warm-up
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, metric in variants.items():
            started = time.perf_counter()
            features[name] = metric.features(images)
            times[name].append(time.perf_counter() - started)
    threads = torch.get_num_threads()
    print(f"\n== FID Inception-v3 features of {len(images)} real 512 px images, threads {threads}, {repeats} runs each")
    base = statistics.median(next(iter(times.values())))
    print(f"{'variant':40s} {'min s':>7s} {'median s':>9s} {'images/s':>9s} {'vs baseline':>12s}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:40s} {min(values):7.2f} {median:9.2f} {len(images) / median:9.2f} {base / median:11.2f}x")
    a, b = features.values()
    print(f"max feature difference: {float(np.abs(a - b).max()):.2e} (mean |feature| {float(np.abs(a).mean()):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--against", type=Path, help="another checkout of the repo (e.g. the previous version)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--fid-images", type=int, default=32)
    parser.add_argument("--skip-first-sample", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-fid", action="store_true")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"dataset {args.data} not found; pass --data")
    sys.path.insert(0, str(REPO))
    trees = {"this tree": REPO}
    if args.against:
        trees["other tree"] = args.against.resolve()
    if not args.skip_first_sample:
        bench_first_sample(args.data, trees, args.repeats)
    if not args.skip_throughput:
        bench_throughput(args.data, args.limit)
    if not args.skip_fid:
        bench_fid_features(args.data, args.fid_images, args.repeats)


if __name__ == "__main__":
    main()
