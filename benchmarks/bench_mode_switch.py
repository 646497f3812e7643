"""Switching text -> ControlNet -> text on one base model, as the app does: the shared loader
(`core.services.shared_engine_loader`, one cached base) against the one-shot loader
(`core.services.load_engine`, what the app used before: every spec change reloaded everything).

    .venv/bin/python -m benchmarks.bench_mode_switch [--repeat 3]

With tiny-random the base loads in well under a second; the load counts are what carries over to
SD3 Medium, where one base load reads ~16 GB.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.state import EngineHolder
from core.config import Settings
from core.models.loading import LOAD_COUNTS
from core.services import ModelSpec, load_engine, shared_engine_loader
from tests.support.gen_tiny_weights import save_tiny_controlnet


def switch(holder: EngineHolder, specs: list[ModelSpec], settings: Settings) -> tuple[float, dict[str, int]]:
    before = dict(LOAD_COUNTS)
    start = time.perf_counter()
    for spec in specs:
        holder.get(spec, settings)
    seconds = time.perf_counter() - start
    return seconds, {key: LOAD_COUNTS[key] - before.get(key, 0) for key in ("base", "controlnet")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env().with_(offline=True, cache_dir=Path(tmp) / "cache")
        controlnet = str(save_tiny_controlnet(Path(tmp) / "controlnet"))
        specs = [ModelSpec("tiny-random"), ModelSpec("tiny-random", controlnet=controlnet), ModelSpec("tiny-random")]
        rows = {"one-shot loader (before)": [], "shared base (now)": []}
        for _ in range(args.repeat):
            # fresh holders each run: the first spec is a cold load on both sides
            rows["one-shot loader (before)"].append(switch(EngineHolder(load_engine), specs, settings))
            rows["shared base (now)"].append(switch(EngineHolder(shared_engine_loader()), specs, settings))
    baseline = statistics.median(s for s, _ in rows["one-shot loader (before)"])
    print(f"text -> ControlNet -> text, tiny-random, {args.repeat} runs")
    print(f"{'loader':28} {'base loads':>10} {'ControlNet loads':>17} {'min s':>8} {'median s':>9} {'x before':>9}")
    for name, runs in rows.items():
        seconds = [s for s, _ in runs]
        counts = runs[0][1]
        print(
            f"{name:28} {counts['base']:>10} {counts['controlnet']:>17} {min(seconds):>8.3f} "
            f"{statistics.median(seconds):>9.3f} {statistics.median(seconds) / baseline:>8.2f}x"
        )


if __name__ == "__main__":
    main()
