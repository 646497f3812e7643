"""The GPU speed / memory options, each with its flags, Hugging Face's measured anchor where one exists,
and a computed estimate from the real configs' parameter counts (`core.models.memory_table`).

The anchors are Hugging Face's SD3 Medium measurements (A100, fp16, 1024 px, 28 steps; the
diffusers SD3 documentation and its speed-up blog). The estimates are computed, not measured: weights
from the real parameter counts (checked against `fixtures/hub-configs` built on the meta device) at the
option's bytes per value, activations from the CPU-measured 512 px peaks scaled to the size (tokens
for the transformer, pixels for the VAE, one 512 px tile with tiling), seconds from the anchors
(steps scaled where only the step count changes; SD3.5 Large scaled by its transformer's parameters).
`python -m core selfcheck --gpu-options` measures each option on the GPU it finds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.models.memory_table import MEASURED_ACTIVATION_BYTES_BF16, part_weight_bytes
from core.models.registry import KNOWN_MODELS, KnownModel

GB = 1000**3  # the anchors are in GB as Hugging Face printed them
TEXT_TOKENS = 77 + 256
PATCH_PX = 16  # 8x VAE downsampling x 2x2 patches
ANCHOR_STEPS = 28
ANCHOR_MODEL = "sd3-medium"
TRANSFORMER_BLOCKS = {"sd3-medium": 24, "sd3.5-large": 38}


@dataclass(frozen=True)
class Anchor:
    """Hugging Face's measurement: seconds per image and peak GPU memory (GB) at 1024 px on an A100."""

    seconds: float
    peak_gb: float | None
    steps: int = ANCHOR_STEPS
    note: str = ""


@dataclass(frozen=True)
class GpuOption:
    """One way to run SD3 on a GPU.

    Attributes:
        name: short name (tables, selfcheck).
        flags: the command-line flags that pick it ("" for the default).
        spec: `ModelSpec` fields it sets (empty for run-time options).
        steps: denoising steps it runs (28 = the anchor's; fewer for compile's and preview's anchors).
        t5_bytes: bytes per T5 weight (2 fp16, 1 8-bit, 0.5 4-bit, 0 dropped).
        offload: "none", "model" or "sequential".
        vae_tiling: decode in 512 px tiles.
        compiled: `torch.compile` of the transformer (`--compile`).
        offered: whether this product's loader offers it; else `why_not` says why.
        anchor: Hugging Face's measurement of this option on SD3 Medium, if any.
        guidance_scale: the guidance the option runs at (the preview's), None = the default.
        models: the models it exists for (None: all).
        model_id: the model it loads instead of the chosen one (a distilled preview), None = the chosen one.
    """

    name: str
    flags: str
    spec: dict = field(default_factory=dict)
    steps: int = ANCHOR_STEPS
    t5_bytes: float = 2.0
    offload: str = "none"
    vae_tiling: bool = False
    compiled: bool = False
    offered: bool = True
    why_not: str = ""
    anchor: Anchor | None = None
    guidance_scale: float | None = None
    models: tuple[str, ...] | None = None
    model_id: str | None = None

    def offered_for(self, model_id: str) -> bool:
        return self.offered and (self.models is None or model_id in self.models)


GPU_OPTIONS: tuple[GpuOption, ...] = (
    GpuOption("default (fp16)", "", anchor=Anchor(4.76, 18.8)),
    GpuOption(
        "8-bit T5 (bitsandbytes)", "--t5-quantization 8bit", {"t5_quantization": "8bit"}, t5_bytes=1.0,
        anchor=Anchor(4.93, 10.6),
    ),
    GpuOption("4-bit T5 (bitsandbytes NF4)", "--t5-quantization 4bit", {"t5_quantization": "4bit"}, t5_bytes=0.5),
    GpuOption("no T5", "--no-t5", {"drop_t5": True}, t5_bytes=0.0),
    GpuOption("model CPU offload", "--cpu-offload", {"cpu_offload": True}, offload="model"),
    GpuOption(
        "model CPU offload, no T5", "--cpu-offload --no-t5", {"cpu_offload": True, "drop_t5": True}, t5_bytes=0.0,
        offload="model", anchor=Anchor(19.1, 4.3),
    ),
    GpuOption("sequential CPU offload", "--sequential-offload", {"sequential_offload": True}, offload="sequential"),
    # automatic: the engine tiles the decode when it would not fit the free memory
    GpuOption("VAE tiling (automatic when the decode does not fit)", "", vae_tiling=True),
    GpuOption(
        "attention slicing", "", offered=False,
        why_not="diffusers advises against it with PyTorch SDPA, which SD3's joint attention already uses "
        "(memory-efficient; slicing only slows it down)",
    ),
    GpuOption(
        "torch.compile, 20 steps", "--compile --steps 20", steps=20, compiled=True,
        anchor=Anchor(0.585, None, steps=20, note="mode max-autotune (ours: the default mode); warm-up excluded"),
    ),
    # `--quality preview`: the presets of core.generation.quality (a test keeps the two in step)
    GpuOption(
        "preview: Hyper-SD3 8-step LoRA", "--quality preview", {"lora": "hyper-sd3-8steps", "lora_scale": 0.125},
        steps=8, guidance_scale=5.0, models=("sd3-medium",),
    ),
    GpuOption(
        "preview: TensorArt SD3.5M Turbo 8-step LoRA", "--quality preview",
        {"lora": "sd3.5m-turbo-8steps", "lora_scale": 1.0}, steps=8, guidance_scale=1.5, models=("sd3.5-medium",),
    ),
    GpuOption(
        "preview: SD3.5 Large Turbo (distilled model)", "--quality preview", steps=4, guidance_scale=0.0,
        models=("sd3.5-large",), model_id="stabilityai/stable-diffusion-3.5-large-turbo",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class OptionEstimate:
    """Computed figures of one option for one model at `size_px` (fp16)."""

    option: GpuOption
    model_id: str
    peak_gpu_bytes: int
    host_ram_bytes: int
    seconds: float | None
    seconds_how: str


def activation_bytes(model: KnownModel, size_px: int, vae_tiling: bool, bytes_per_value: int = 2) -> dict[str, int]:
    """The CPU-measured 512 px activation peaks scaled to `size_px` and the dtype."""
    tokens = (size_px // PATCH_PX) ** 2 + TEXT_TOKENS
    tokens_512 = (512 // PATCH_PX) ** 2 + TEXT_TOKENS
    pixels = 1.0 if vae_tiling else (size_px / 512) ** 2
    scale = bytes_per_value / 2
    width = _transformer_width(model) / _transformer_width(KNOWN_MODELS[ANCHOR_MODEL])
    return {
        "transformer": int(MEASURED_ACTIVATION_BYTES_BF16["transformer"] * tokens / tokens_512 * width * scale),
        "vae": int(MEASURED_ACTIVATION_BYTES_BF16["vae"] * pixels * scale),
    }


def _transformer_width(model: KnownModel) -> int:
    return {"sd3-medium": 1536, "sd3.5-large": 2432}.get(model.model_id, 1536)


def estimate_option(model: KnownModel, option: GpuOption, size_px: int = 1024) -> OptionEstimate:
    """Peak GPU memory, system RAM for offloaded weights and seconds of `option` on `model` (fp16)."""
    weights = part_weight_bytes(model, "float16")
    weights["text_encoder_3"] = int(weights["text_encoder_3"] * option.t5_bytes / 2)
    if option.t5_bytes == 0:
        weights.pop("text_encoder_3")
    activations = activation_bytes(model, size_px, option.vae_tiling)
    if option.offload == "model":
        # one part on the GPU at a time
        peak = max(size + activations.get(part, 0) for part, size in weights.items())
        host = sum(weights.values())
    elif option.offload == "sequential":
        # one transformer block (or the small VAE) on the GPU at a time, with its activations
        block = weights["transformer"] // TRANSFORMER_BLOCKS.get(model.model_id, 24)
        peak = max(block + activations["transformer"], weights["vae"] + activations["vae"])
        host = sum(weights.values())
    else:
        peak = sum(weights.values()) + max(activations.values())
        host = 0
    seconds, how = _seconds(model, option)
    return OptionEstimate(option, model.model_id, peak, host, seconds, how)


def _seconds(model: KnownModel, option: GpuOption) -> tuple[float | None, str]:
    """Seconds on an A100 from the anchors: the option's own, else the default's scaled by steps."""
    medium = KNOWN_MODELS[ANCHOR_MODEL]
    size = model.transformer_parameters / medium.transformer_parameters
    by_size = "" if model.model_id == ANCHOR_MODEL else f" x {size:.2f} (transformer parameters)"
    if option.anchor is not None:
        return option.anchor.seconds * size, f"Hugging Face's anchor{by_size}"
    if option.offload != "none" or option.t5_bytes not in (0.0, 2.0):
        return None, "no anchor (transfer or dequantisation time): measure with selfcheck --gpu-options"
    default = GPU_OPTIONS[0].anchor
    seconds = default.seconds * option.steps / default.steps * size
    how = f"default anchor x {option.steps}/{default.steps} steps{by_size}"
    if option.guidance_scale is not None and option.guidance_scale <= 1:
        # diffusers runs classifier-free guidance (a doubled transformer batch) only above guidance 1
        return seconds / 2, how + " x 1/2 (guidance <= 1: no CFG batch)"
    return seconds, how


def gpu_options_table_markdown(model_ids: tuple[str, ...] = ("sd3-medium", "sd3.5-large"), size_px: int = 1024) -> str:
    """The docs' table: every option, its flags, the anchor and our computed figures per model."""
    header = "| option | flags | HF anchor (A100, SD3 Medium) |"
    rule = "|---|---|---|"
    for model_id in model_ids:
        header += f" {model_id}: peak GPU GB (computed) | {model_id}: s/image A100 (computed) |"
        rule += "---|---|"
    lines = [header, rule]
    for option in GPU_OPTIONS:
        anchor = "-"
        if option.anchor is not None:
            memory = f" / {option.anchor.peak_gb} GB" if option.anchor.peak_gb is not None else ""
            anchor = f"{option.anchor.seconds} s{memory} ({option.anchor.steps} steps)"
        flags = f"`{option.flags}`" if option.flags else "-"
        row = f"| {option.name} | {flags} | {anchor} |"
        for model_id in model_ids:
            if not option.offered_for(model_id):
                row += " not offered | - |"
                continue
            estimate = estimate_option(KNOWN_MODELS[model_id], option, size_px)
            seconds = "-" if estimate.seconds is None else f"{estimate.seconds:.2f}"
            row += f" {estimate.peak_gpu_bytes / GB:.1f} | {seconds} |"
        lines.append(row)
    return "\n".join(lines)


# Fastest first: what to pick when the whole model does not fit (never drops T5: the climate prompt)
PREFERENCE = (
    "default (fp16)",
    "8-bit T5 (bitsandbytes)",
    "4-bit T5 (bitsandbytes NF4)",
    "model CPU offload",
    "sequential CPU offload",
)
# Leave room for the CUDA context, the allocator's cache and the other processes on the card.
USABLE_SHARE = 0.9


def pick_option(
    model: KnownModel, gpu_bytes: int, size_px: int = 1024, usable: Callable[[GpuOption], bool] = lambda _: True
) -> GpuOption:
    """The fastest option (keeping T5) whose computed peak fits `USABLE_SHARE` of `gpu_bytes`, among those
    `usable` accepts (e.g. not the quantised T5 where bitsandbytes is not installed)."""
    by_name = {option.name: option for option in GPU_OPTIONS}
    for name in PREFERENCE:
        if not usable(by_name[name]):
            continue
        if estimate_option(model, by_name[name], size_px).peak_gpu_bytes <= USABLE_SHARE * gpu_bytes:
            return by_name[name]
    return by_name[PREFERENCE[-1]]


def picks_table_markdown(gpu_gb: tuple[int, ...] = (8, 12, 16, 24, 40, 80), size_px: int = 1024) -> str:
    """Which option `pick_option` takes per GPU memory size, for SD3 Medium and SD3.5 Large."""
    lines = ["| GPU memory | sd3-medium | sd3.5-large |", "|---|---|---|"]
    for size in gpu_gb:
        picks = [pick_option(KNOWN_MODELS[m], size * GB, size_px) for m in ("sd3-medium", "sd3.5-large")]
        lines.append(f"| {size} GB | " + " | ".join(f"{p.name} (`{p.flags or 'no flag'}`)" for p in picks) + " |")
    return "\n".join(lines)
