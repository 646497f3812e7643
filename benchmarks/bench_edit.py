"""Benchmark: cost per image of the edit modes against text-to-image on the same engine.

Variants, each on the same prompts and seed: text-to-image, img2img (strength 0.6), edit (FlowEdit,
its SD3 defaults: n_max = 66 % of the steps, guidance 3.5 / 13.5, so 4 transformer rows per edited
step) and invert (inversion + regeneration of all steps, no guidance: 2 x steps rows of 1). Besides
wall time per image, the transformer rows evaluated per image are counted with a forward hook: the
machine-independent part of the cost (a row = one latent through the transformer at one step).

Every variant runs `--repeats` times, interleaved, same torch thread count; min and median per image
and the ratios to text-to-image's median are printed side by side.

Run: .venv/bin/python -m benchmarks.bench_edit [--size 64] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=7.5, help="text / img2img guidance (EcoMapper: 7.5)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    import numpy as np
    import torch

    from core.config import Settings
    from core.generation.prompts import Prompts
    from core.models import ModelSpec
    from core.models.engine import Engine, FrameJob

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    source = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    today = Prompts("a satellite image of Croplands in Nairobi, Kenya on March 2021.", "The temperature was 21 C.")
    hotter = Prompts(today.spatial, "The temperature was 27 C.")
    job = FrameJob(hotter, seed=0, control_image=source, source_prompts=today)
    rows = {"n": 0}
    engine.loaded.pipe.transformer.register_forward_hook(
        lambda _m, _a, kwargs, _out: rows.__setitem__("n", rows["n"] + kwargs["hidden_states"].shape[0]),
        with_kwargs=True,
    )
    variants = {"text": "text", "img2img 0.6": "img2img", "edit": "edit", "invert": "invert"}
    times: dict[str, list[float]] = {name: [] for name in variants}
    counted: dict[str, int] = {}
    common = dict(size_px=args.size, num_inference_steps=args.steps, guidance_scale=args.guidance, strength=0.6)
    for mode in variants.values():  # warm-up: embeddings cached, first-call costs paid
        engine.run_frames([job], mode=mode, **common)
    for _ in range(args.repeats):
        for name, mode in variants.items():
            rows["n"] = 0
            started = time.perf_counter()
            engine.run_frames([job], mode=mode, **common)
            times[name].append(time.perf_counter() - started)
            counted[name] = rows["n"]
    base = statistics.median(times["text"])
    print(f"tiny-random, {args.size} px, {args.steps} steps, {args.repeats} repeats, {torch.get_num_threads()} threads")
    print(f"{'variant':<14}{'min s':>9}{'median s':>10}{'x text':>8}{'rows':>7}{'x text':>8}")
    for name in variants:
        median = statistics.median(times[name])
        print(
            f"{name:<14}{min(times[name]):>9.3f}{median:>10.3f}{median / base:>8.2f}"
            f"{counted[name]:>7}{counted[name] / counted['text']:>8.2f}"
        )


if __name__ == "__main__":
    main()
