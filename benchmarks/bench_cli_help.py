"""Wall time of `python -m core --help` and `python -m core climate --help`, this tree against another.

Each command runs `--repeats` times per tree, interleaved, in a fresh interpreter; min and median
are printed with the ratio of medians, and which model libraries the command imported.

Run: .venv/bin/python -m benchmarks.bench_cli_help [--against OTHER_CHECKOUT] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = (["--help"], ["climate", "--help"], ["generate", "--help"])
PROBE = (
    "import json, sys\nfrom core.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    "print('MODULES', json.dumps(sorted(m for m in ('torch', 'diffusers', 'transformers', 'accelerate') "
    "if m in sys.modules)), file=sys.stderr)\n"
)


def _time(tree: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", *args], cwd=tree, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def _imports(tree: Path, args: list[str]) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tree, env=env, capture_output=True, text=True)
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES"))
    return json.loads(line.split(" ", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout of the repo (e.g. the previous version)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.against:
        trees["other tree"] = args.against.resolve()
    print(f"fresh interpreter per run, {args.repeats} runs each, interleaved; times in ms")
    print(f"{'command':28s} {'tree':11s} {'min':>7s} {'median':>7s} {'vs other':>9s}  model libraries imported")
    for command in COMMANDS:
        times: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                times[name].append(_time(tree, command))
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, tree in trees.items():
            ratio = f"{medians[name] / medians['other tree']:8.2f}x" if "other tree" in trees else ""
            print(
                f"{' '.join(command):28s} {name:11s} {1000 * min(times[name]):7.0f} {1000 * medians[name]:7.0f} "
                f"{ratio:>9s}  {_imports(tree, command) or 'none'}"
            )


if __name__ == "__main__":
    main()
