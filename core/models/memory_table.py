"""Memory a model needs per option (dtype, with or without T5, CPU offload), from real parameter counts.

Weights are exact: the parameter counts of the real configs (`core.models.registry`) times the
bytes of the dtype, plus the transformer's persisted position table. Activations are measured:
`benchmarks/bench_real_architecture.py` runs the real SD3 Medium transformer (one CFG step, batch
2) and VAE decode on the CPU in bfloat16 and records the peak resident-memory growth; other dtypes
scale with their bytes per value. CUDA kernels and the allocator's caching change the activation
share somewhat, so the totals are estimates, labelled as such; the weight columns are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models.registry import KnownModel

GIB = 1024**3
BYTES_PER_VALUE = {"float32": 4, "bfloat16": 2, "float16": 2}
# SD3's fixed 192 x 192 x 1536 sin-cos position table is a persisted buffer of the transformer (and of
# each ControlNet): 56,623,104 values in SD3 Medium (width 1536); SD3.5 Large's is 192 x 192 x 2432.
POS_EMBED_VALUES = {"sd3-medium": 192 * 192 * 1536, "sd3.5-large": 192 * 192 * 2432}
TEXT_ENCODERS = ("text_encoder", "text_encoder_2", "text_encoder_3")

# Peak resident-memory growth (bytes, bfloat16) of one denoising step with guidance (batch 2) of
# the real SD3 Medium transformer and of one VAE decode, at 512 px, measured on this project's CPU
# machine by benchmarks/bench_real_architecture.py (re-run it to refresh these numbers).
MEASURED_ACTIVATION_BYTES_BF16 = {"transformer": 112_381_952, "vae": 115_216_384}


@dataclass(frozen=True)
class MemoryOption:
    """One way to run a model: dtype, T5 kept or dropped, model CPU offload or not."""

    dtype: str
    drop_t5: bool = False
    cpu_offload: bool = False

    @property
    def label(self) -> str:
        flags = [flag for flag, on in (("--no-t5", self.drop_t5), ("--cpu-offload", self.cpu_offload)) if on]
        return " ".join(flags) or "default"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one option needs.

    Attributes:
        option: the option.
        weights_on_gpu: weights resident on the GPU at the peak (all parts, or the largest one with offload).
        activations: the measured activation peak scaled to the dtype.
        peak_gpu: weights_on_gpu + activations (an estimate: activations were measured on a CPU).
        host_ram: weights kept in system RAM (the offloaded parts).
    """

    option: MemoryOption
    weights_on_gpu: int
    activations: int
    peak_gpu: int
    host_ram: int


def part_weight_bytes(model: KnownModel, dtype: str) -> dict[str, int]:
    """Bytes of each part's weights in `dtype` (the transformer with its position table)."""
    size = BYTES_PER_VALUE[dtype]
    counts = model.part_parameters()
    if not counts:
        raise ValueError(f"{model.model_id} has no checked parameter counts")
    weights = {part: count * size for part, count in counts.items()}
    weights["transformer"] += POS_EMBED_VALUES.get(model.model_id, 0) * size
    return weights


def estimate_memory(
    model: KnownModel, option: MemoryOption, activation_bytes_bf16: dict[str, int] | None = None
) -> MemoryEstimate:
    """Memory of `model` run as `option`.

    Without offload every kept part sits on the GPU and the larger activation peak (transformer step
    or VAE decode) comes on top. With model CPU offload one part is on the GPU at a time, so the peak
    is the largest of (part weights + that part's activations); the rest waits in system RAM.
    """
    measured = activation_bytes_bf16 if activation_bytes_bf16 is not None else MEASURED_ACTIVATION_BYTES_BF16
    scale = BYTES_PER_VALUE[option.dtype] / BYTES_PER_VALUE["bfloat16"]
    activations = {part: int(measured.get(part, 0) * scale) for part in ("transformer", "vae")}
    weights = part_weight_bytes(model, option.dtype)
    if option.drop_t5:
        weights.pop("text_encoder_3")
    if option.cpu_offload:
        per_part = {part: size + activations.get(part, 0) for part, size in weights.items()}
        biggest = max(per_part, key=per_part.get)
        return MemoryEstimate(
            option,
            weights_on_gpu=weights[biggest],
            activations=activations.get(biggest, 0),
            peak_gpu=per_part[biggest],
            host_ram=sum(weights.values()),
        )
    on_gpu = sum(weights.values())
    peak_activation = max(activations.values())
    return MemoryEstimate(option, on_gpu, peak_activation, on_gpu + peak_activation, host_ram=0)


def memory_options() -> list[MemoryOption]:
    """Every dtype x T5 x offload combination, in table order."""
    return [
        MemoryOption(dtype, drop_t5, offload)
        for dtype in ("float32", "bfloat16", "float16")
        for offload in (False, True)
        for drop_t5 in (False, True)
    ]


def memory_table_markdown(model: KnownModel, activation_bytes_bf16: dict[str, int] | None = None) -> str:
    """The README's memory table for `model` (GiB, one decimal)."""

    def gib(value: int) -> str:
        return f"{value / GIB:.1f}"

    lines = [
        "| dtype | option | weights on GPU (GiB) | + activations 512 px (GiB) | peak GPU (GiB, est.) | system RAM for "
        "offloaded weights (GiB) |",
        "|---|---|---|---|---|---|",
    ]
    for option in memory_options():
        estimate = estimate_memory(model, option, activation_bytes_bf16)
        lines.append(
            f"| {option.dtype} | `{option.label}` | {gib(estimate.weights_on_gpu)} | {gib(estimate.activations)} | "
            f"{gib(estimate.peak_gpu)} | {gib(estimate.host_ram) if option.cpu_offload else '-'} |"
        )
    return "\n".join(lines)
