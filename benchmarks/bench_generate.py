"""Benchmark: a 12-frame ControlNet series, the engine against bare diffusers at its best.

Baseline: the bare diffusers ControlNet pipeline called once per frame with everything that can be
done beforehand done beforehand - prompt embeddings encoded once per prompt, the control image's
VAE latents encoded once (handed in with `core.models.engine.known_control_latents`, the same way
the engine does) - and the same uint8 conversion. That is the strongest per-frame loop; a plain
diffusers loop (text prompts, control image every frame) is printed for context only.

Engine: `Engine.run_frames` on the same jobs, one frame per call and batched (automatic batch size
and the whole series in one call). Every variant runs `--repeats` times, interleaved (a burst of
load on a shared machine hits all alike), same torch thread count; min and median per frame and
the ratios to the baseline's median are printed. With `--compile`, the speed-up of
`Engine.compile()` (fused QKV + torch.compile) after its warm-up is measured too.

Run: .venv/bin/python -m benchmarks.bench_generate [--sizes 512,1024] [--steps 2] [--repeats 5] [--frames 12]
     [--compile]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FRAMES = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024", help="image sides to measure, comma-separated")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=FRAMES, choices=range(1, 25), metavar="1..24",
                        help=f"frames in the series (default {FRAMES})")  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--compile", action="store_true", help="also measure Engine.compile() after warm-up")
    args = parser.parse_args()

    import torch

    from core.config import Settings
    from core.models import ModelSpec
    from core.models.engine import Engine

    if args.threads:
        torch.set_num_threads(args.threads)
    engine = Engine.load(ModelSpec("tiny-random"), Settings.from_env())
    for size in (int(part) for part in args.sizes.split(",")):
        args.size = size
        jobs, common = bench_series(engine, args)
    if args.compile:
        bench_compile(engine, jobs, common, args.repeats)


def bench_series(engine, args):
    """The `--frames` series at `args.size`: every variant, timed interleaved; returns the jobs and settings."""
    import numpy as np
    import torch
    from PIL import Image

    from core.generation.prompts import Prompts
    from core.geo import month_range
    from core.models.engine import NEGATIVE_PROMPTS, FrameJob, known_control_latents

    pipe = engine.loaded.controlnet_pipe
    months = month_range("2020-01", "2021-12")[: args.frames]
    control = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    jobs = [
        FrameJob(
            Prompts(f"a satellite image of Croplands in Nairobi, Kenya on {m}.", f"The temperature was {10 + i} C."),
            seed=0,
            control_image=control,
        )
        for i, m in enumerate(months)
    ]
    common = dict(size_px=args.size, num_inference_steps=args.steps, guidance_scale=7.5)

    def bare_diffusers_best() -> list[np.ndarray]:
        """Per frame, with embeddings and the control latents computed once (not timed separately)."""
        negative, negative_pooled = engine.embeddings(NEGATIVE_PROMPTS)
        with torch.inference_mode():
            pixels = pipe.image_processor.preprocess(Image.fromarray(control), height=args.size, width=args.size)
            latents = pipe.vae.encode(pixels).latent_dist.sample(generator=torch.Generator().manual_seed(0))
        images = []
        for job in jobs:
            embeds, pooled = engine.embeddings(job.prompts)
            with torch.inference_mode(), known_control_latents(pipe, latents):
                frame = pipe(
                    prompt_embeds=embeds,
                    pooled_prompt_embeds=pooled,
                    negative_prompt_embeds=negative,
                    negative_pooled_prompt_embeds=negative_pooled,
                    control_image=Image.fromarray(control),
                    height=args.size,
                    width=args.size,
                    num_inference_steps=args.steps,
                    guidance_scale=7.5,
                    generator=torch.Generator().manual_seed(job.seed),
                    output_type="np",
                    max_sequence_length=256,
                ).images[0]
            images.append((np.clip(frame, 0, 1) * 255).round().astype(np.uint8))
        return images

    def plain_diffusers() -> list[np.ndarray]:
        """What a first script does: text prompts and the control image on every call (context only)."""
        images = []
        for job in jobs:
            with torch.inference_mode():
                frame = pipe(
                    prompt=job.prompts.spatial,
                    prompt_2=job.prompts.spatial,
                    prompt_3=job.prompts.climate,
                    control_image=Image.fromarray(control),
                    height=args.size,
                    width=args.size,
                    num_inference_steps=args.steps,
                    guidance_scale=7.5,
                    generator=torch.Generator().manual_seed(job.seed),
                    output_type="np",
                    max_sequence_length=256,
                ).images[0]
            images.append((np.clip(frame, 0, 1) * 255).round().astype(np.uint8))
        return images

    def engine_run(batch_size):
        return lambda: engine.run_frames(jobs, mode="controlnet", batch_size=batch_size, **common)[0]

    from core.models.memory import auto_batch_size

    auto = auto_batch_size(engine.loaded, args.size, mode="controlnet")
    variants = {
        "diffusers per frame, embeddings + control latents precomputed (baseline)": bare_diffusers_best,
        "engine, 1 frame per call": engine_run(1),
        f"engine, automatic batch ({auto})": engine_run(None),
        f"engine, {args.frames} frames per call": engine_run(args.frames),
        "plain diffusers loop (prompts + control image every frame; context)": plain_diffusers,
    }
    # warm-up: first calls allocate and pick kernels; the embeddings are cached for all variants
    outputs = {name: run() for name, run in variants.items()}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - started) / args.frames)

    baseline_name = next(iter(variants))
    base = statistics.median(times[baseline_name])
    print(
        f"{args.frames}-frame ControlNet series (shared control image), tiny-random, {args.size} px, "
        f"{args.steps} steps, "
        f"guidance 7.5, CPU, torch threads {torch.get_num_threads()} (all variants), {args.repeats} runs each"
    )
    print(f"{'variant':72s} {'min ms/fr':>10s} {'median':>8s} {'ratio':>7s} {'max |diff|':>10s}")
    reference = outputs["engine, 1 frame per call"]
    for name, values in times.items():
        diff = max(
            int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(reference, outputs[name], strict=True)
        )
        print(
            f"{name:72s} {1000 * min(values):10.1f} {1000 * statistics.median(values):8.1f} "
            f"{statistics.median(values) / base:6.2f}x {diff:10d}"
        )
    print("ratio: median per-frame time / the baseline's median (goal for batching: <= 1.0)")
    print("max |diff|: largest 8-bit difference to the engine's unbatched frames (plain loop: other latents)\n")
    return jobs, common


def bench_compile(engine, jobs, common, repeats: int) -> None:
    import statistics
    import time

    text_jobs = [type(job)(job.prompts, job.seed) for job in jobs]
    kwargs = dict(mode="text", batch_size=len(text_jobs), **common)
    engine.run_frames(text_jobs, **kwargs)
    eager = []
    for _ in range(repeats):
        started = time.perf_counter()
        engine.run_frames(text_jobs, **kwargs)
        eager.append(time.perf_counter() - started)
    engine.compile()
    started = time.perf_counter()
    _, timings = engine.run_frames(text_jobs, **kwargs)
    warmup = time.perf_counter() - started
    compiled = []
    for _ in range(repeats):
        started = time.perf_counter()
        engine.run_frames(text_jobs, **kwargs)
        compiled.append(time.perf_counter() - started)
    print(f"\n--compile, text mode, {len(text_jobs)} frames per call, {repeats} runs each after warm-up")
    print(f"  warm-up (first compiled call, reported as compile_warmup_s {timings['compile_warmup_s']:.1f} s): "
          f"{warmup:.1f} s")  # fmt: skip
    print(f"  eager     min {1000 * min(eager) / len(text_jobs):8.1f}  median "
          f"{1000 * statistics.median(eager) / len(text_jobs):8.1f} ms/frame")  # fmt: skip
    print(f"  compiled  min {1000 * min(compiled) / len(text_jobs):8.1f}  median "
          f"{1000 * statistics.median(compiled) / len(text_jobs):8.1f} ms/frame")  # fmt: skip
    print(f"  speed-up (median eager / median compiled): {statistics.median(eager) / statistics.median(compiled):.2f}x")


if __name__ == "__main__":
    main()
