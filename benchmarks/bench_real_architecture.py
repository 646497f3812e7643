"""Benchmark: the real SD3 Medium transformer (random weights, bfloat16) on the CPU, one denoising step.

Builds the MMDiT from its real Hub config (`../shared/fixtures/hub-configs/`), 2,028,328,000
parameters, fills it with random bfloat16 weights and times one denoising step with guidance
(batch 2: conditional and unconditional) at 256 px and 512 px, with the peak resident memory,
beside the FLOPs counted by torch's FlopCounterMode on the meta device. Then one VAE decode of the
real SD3 VAE at 512 px. The measured activation peaks feed the memory table it prints last
(`core.models.memory_table`), which the README shows. Skips with a message when the machine has too
little free memory.

Run: .venv/bin/python benchmarks/bench_real_architecture.py [--sizes 256 512] [--no-vae]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONFIGS = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "hub-configs"
SD3_MEDIUM = CONFIGS / "stabilityai--stable-diffusion-3-medium-diffusers"
TEXT_TOKENS = 77 + 256  # CLIP (padded to 77) + T5 (max_sequence_length 256), concatenated
HEADROOM_GIB = 4.0  # activations and the interpreter beside the weights
GIB = 1024**3


def available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes() -> int:
    import os

    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples the resident set every 5 ms while in the `with` block."""

    def __enter__(self):
        self.start = rss_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def materialise(meta_model, dtype, seed: int = 0):
    """Random weights in `dtype` for a model built on the meta device, keeping its real buffers."""
    import torch

    buffers = {name: buf.detach().clone().to(dtype) for name, buf in meta_model.named_buffers()}
    model = meta_model.to(dtype=dtype).to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.02, generator=generator)
        for name, buf in model.named_buffers():
            buf.copy_(buffers[name])
    return model.eval()


def step_inputs(size_px: int, device: str, dtype):
    import torch

    latent = size_px // 8
    generator = torch.Generator().manual_seed(1)
    make = lambda *shape: torch.randn(*shape, generator=generator).to(device=device, dtype=dtype)  # noqa: E731
    return dict(
        hidden_states=make(2, 16, latent, latent),
        encoder_hidden_states=make(2, TEXT_TOKENS, 4096),
        pooled_projections=make(2, 2048),
        timestep=torch.full((2,), 500.0, device=device),
        return_dict=False,
    )


def count_flops(meta_model, size_px: int) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = meta_model.to("meta")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(**step_inputs(size_px, "meta", torch.float32))
    return counter.get_total_flops()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--no-vae", action="store_true", help="skip the VAE decode measurement")
    args = parser.parse_args()
    if not SD3_MEDIUM.is_dir():
        print(f"SKIP: {SD3_MEDIUM} is absent (the real Hub configs live in ../shared/fixtures/hub-configs).")
        return 0

    import torch

    from core.models.architectures import build_empty_part, parameter_count
    from core.models.memory_table import memory_table_markdown
    from core.models.registry import KNOWN_MODELS

    dtype = torch.bfloat16
    params = parameter_count(build_empty_part(SD3_MEDIUM, "transformer"))
    needed = params * 2 + HEADROOM_GIB * GIB
    free = available_bytes()
    if free < needed:
        print(
            f"SKIP: the real SD3 Medium transformer in bfloat16 needs about {needed / GIB:.1f} GiB "
            f"(weights {params * 2 / GIB:.1f} GiB + {HEADROOM_GIB:g} GiB headroom); {free / GIB:.1f} GiB is available."
        )
        return 0
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {free / GIB:.1f} GiB available")
    flops = {size: count_flops(build_empty_part(SD3_MEDIUM, "transformer"), size) for size in args.sizes}

    started = time.perf_counter()
    before = rss_bytes()
    model = materialise(build_empty_part(SD3_MEDIUM, "transformer"), dtype)
    print(
        f"SD3 Medium transformer: {params:,} parameters, random bf16 weights in {time.perf_counter() - started:.1f} s, "
        f"+{(rss_bytes() - before) / GIB:.2f} GiB resident"
    )
    rows = []
    with torch.inference_mode():
        for size in args.sizes:
            inputs = step_inputs(size, "cpu", dtype)
            with PeakRss() as rss:
                started = time.perf_counter()
                (out,) = model(**inputs)
                seconds = time.perf_counter() - started
            assert out.shape == inputs["hidden_states"].shape and torch.isfinite(out.float()).all()
            rows.append((size, (size // 16) ** 2, flops[size], seconds, rss.peak, rss.growth))
    transformer_growth = max(row[5] for row in rows if row[0] == max(args.sizes))
    del model

    print("\none denoising step with guidance (batch 2), real SD3 Medium transformer, bf16, CPU")
    print(
        "| size | image tokens | text tokens | TFLOP (counted) | seconds | achieved GFLOP/s | peak RSS GiB "
        "| growth GiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, tokens, flop, seconds, peak, growth in rows:
        print(
            f"| {size} px | {tokens} | {TEXT_TOKENS} | {flop / 1e12:.2f} | {seconds:.1f} "
            f"| {flop / seconds / 1e9:.0f} | {peak / GIB:.2f} | {growth / GIB:.2f} |"
        )
    if len(rows) >= 2:
        (s0, _, f0, t0, _, _), (s1, _, f1, t1, _, _) = rows[0], rows[-1]
        print(f"ratio {s1} px / {s0} px: FLOPs x{f1 / f0:.2f}, time x{t1 / t0:.2f}")

    vae_growth = 0
    if not args.no_vae:
        vae = materialise(build_empty_part(SD3_MEDIUM, "vae"), dtype)
        latents = torch.randn(1, 16, 64, 64, generator=torch.Generator().manual_seed(2)).to(dtype)
        with torch.inference_mode(), PeakRss() as rss:
            started = time.perf_counter()
            image = vae.decode(latents).sample
            seconds = time.perf_counter() - started
        vae_growth = rss.growth
        print(
            f"\nVAE decode 512 px (real SD3 VAE, bf16, CPU): {seconds:.1f} s, output {tuple(image.shape)}, "
            f"peak RSS growth {vae_growth / GIB:.2f} GiB"
        )
        del vae

    measured = {"transformer": transformer_growth, "vae": vae_growth}
    print(f"\nmeasured activation peaks (bf16 bytes): {measured}")
    print("\nmemory per option, sd3-medium (weights exact from the real configs; activations measured here):\n")
    print(memory_table_markdown(KNOWN_MODELS["sd3-medium"], measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
