"""Benchmark: seconds per denoising step on this CPU for each generator family, beside SD3 Medium's.

Each family's denoiser is built at its real size with random weights (no download): DiffusionSat =
SD 2.1's UNet (config from ../shared/fixtures/hub-configs) plus 7 metadata embeddings; GeoSynth =
the SD 2.1(-base) UNet plus a ControlNet made from it; map-sat = the SD 1.5 UNet (diffusers' default
UNet with 768-wide cross-attention and 8 heads per block, the SD 1.5 layout) plus its ControlNet;
SD3 Medium = its MMDiT transformer (config from the fixtures). One step = one forward pass with
classifier-free guidance (batch 2), as sampling runs it; text encoders and the VAE run once per
image and are left out. Text2Earth's UNet configuration is not available here, so it is not timed.
A family is skipped with a message when the machine lacks the memory for it.

Run: .venv/bin/python benchmarks/bench_backends.py [--sizes 256 512] [--repeats 2] [--threads N] [--no-warmup]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HUB_CONFIGS = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "hub-configs"
SD21_UNET = HUB_CONFIGS / "stabilityai--stable-diffusion-2-1" / "unet" / "config.json"
SD3_TRANSFORMER = HUB_CONFIGS / "stabilityai--stable-diffusion-3-medium-diffusers" / "transformer" / "config.json"
# SD 1.5's UNet: diffusers' UNet2DConditionModel defaults with these changes (runwayml v1-5 unet/config.json).
SD15_UNET_CHANGES = {"cross_attention_dim": 768, "attention_head_dim": 8, "sample_size": 64}


def _config(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def _available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024**2
    return float("inf")


def _materialise(module):
    """Random weights without the slow per-layer initialisers: built on the meta device, then filled."""
    import torch

    module = module.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.is_floating_point():
                tensor.normal_(0.0, 0.02, generator=generator)
    return module.eval()


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _unet_family(kind: str):
    """(needed GB, builder) where builder() -> (denoiser parameter count, step(latent_px) callable)."""
    import torch

    def build():
        from diffusers import ControlNetModel, UNet2DConditionModel

        from core.models.backends.diffusionsat_unet import DiffusionSatUNet

        with torch.device("meta"):
            if kind == "diffusionsat":
                unet = DiffusionSatUNet(num_metadata=7, **_config(SD21_UNET))
            elif kind == "geosynth":
                unet = UNet2DConditionModel(**_config(SD21_UNET))
            else:
                unet = UNet2DConditionModel(**SD15_UNET_CHANGES)
        unet = _materialise(unet)
        controlnet = None
        if kind != "diffusionsat":
            with torch.device("meta"):
                controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
            controlnet = _materialise(controlnet)
        width = unet.config.cross_attention_dim
        count = _params(unet) + (_params(controlnet) if controlnet is not None else 0)

        def step(latent_px: int):
            sample = torch.randn(2, 4, latent_px, latent_px)
            text = torch.randn(2, 77, width)
            extra = {"metadata": torch.rand(2, 7) * 1000} if kind == "diffusionsat" else {}
            with torch.inference_mode():
                if controlnet is not None:
                    cond = torch.rand(2, 3, latent_px * 8, latent_px * 8)
                    down, mid = controlnet(sample, 500, text, controlnet_cond=cond, return_dict=False)
                    extra = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
                unet(sample, 500, text, **extra)

        return count, step

    needed = {"diffusionsat": 4.5, "geosynth": 6.0, "map-sat": 5.5}[kind]
    return needed, build


def _sd3_family():
    import torch

    def build():
        from diffusers import SD3Transformer2DModel

        with torch.device("meta"):
            transformer = SD3Transformer2DModel(**_config(SD3_TRANSFORMER))
        transformer = _materialise(transformer)

        def step(latent_px: int):
            sample = torch.randn(2, 16, latent_px, latent_px)
            with torch.inference_mode():
                transformer(
                    hidden_states=sample,
                    encoder_hidden_states=torch.randn(2, 333, 4096),  # 77 CLIP + 256 T5 tokens
                    pooled_projections=torch.randn(2, 2048),
                    timestep=torch.tensor([500.0, 500.0]),
                )

        return _params(transformer), step

    return 10.0, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--families", nargs="+", default=["diffusionsat", "geosynth", "map-sat", "sd3-medium"])
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the warm-up pass (faster on a busy machine; counts first-call costs)",
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    for needed_file in (SD21_UNET, SD3_TRANSFORMER):
        if not needed_file.is_file():
            print(f"skipped: {needed_file} is not present (the real configs live in ../shared/fixtures)")
            return
    families = {"sd3-medium": _sd3_family(), **{k: _unet_family(k) for k in ("diffusionsat", "geosynth", "map-sat")}}
    rows: dict[str, dict] = {}
    warm = "no warm-up" if args.no_warmup else "after one warm-up pass"
    print(f"CPU, {torch.get_num_threads()} threads, float32, batch 2 (guidance), median of {args.repeats}, {warm}")
    for name in args.families:
        needed_gb, build = families[name]
        free = _available_gb()
        if free < needed_gb:
            print(f"{name}: skipped, needs ~{needed_gb:g} GB free and {free:.1f} GB is available")
            continue
        count, step = build()
        times = {}
        for size in args.sizes:
            latent = size // 8
            if not args.no_warmup:
                step(latent)  # warm-up (allocations, kernel choice)
            runs = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                step(latent)
                runs.append(time.perf_counter() - started)
            times[size] = statistics.median(runs)
        rows[name] = {"params_m": count / 1e6, "times": times}
        measured = ", ".join(f"{s} px {t:.2f} s/step" for s, t in times.items())
        print(f"{name}: {count / 1e6:.0f} M parameters, {measured}", flush=True)
        del step
    if not rows:
        return
    reference = rows.get("sd3-medium")
    header = "| family | denoiser params (M) | " + " | ".join(f"s/step {s} px" for s in args.sizes)
    header += " | " + " | ".join(f"x SD3 at {s} px" for s in args.sizes) + " |" if reference else " |"
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, row in rows.items():
        cells = [f"{row['params_m']:.0f}", *(f"{row['times'][s]:.2f}" for s in args.sizes)]
        if reference:
            cells += [f"{row['times'][s] / reference['times'][s]:.2f}" for s in args.sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nText2Earth: not timed (its UNet configuration is not in the fixtures).")


if __name__ == "__main__":
    main()
