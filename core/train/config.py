"""The typed training configuration, read strictly from TOML: any mistake is reported before work starts."""

from __future__ import annotations

import difflib
import math
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from core import limits
from core.errors import BadRequestError
from core.io.inputs import check_input_file, read_toml

# lora: LoRA on the transformer; controlnet: a ControlNet, the transformer frozen; controlnet_lora: a ControlNet
# that carries LoRA layers (the original's train_controlnet_lora.py); full: the transformer itself (train.py).
MODES = ("lora", "controlnet", "controlnet_lora", "full")
CONTROL_MODES = ("controlnet", "controlnet_lora")
# "x0": the original's preconditioned target (prediction * -sigma + noisy vs. the clean latents);
# "velocity": diffusers' reference scripts (prediction vs. noise - latents).
PREDICTION_TARGETS = ("x0", "velocity")
# Range of the control image fed to the VAE: "0-1" as the original EcoMapper ControlNet scripts
# (and no VAE shift on its latents), "-1-1" as diffusers' SD3 ControlNet pipeline.
CONTROL_RANGES = ("0-1", "-1-1")
# The original train.py's MM_DiT_blocks sizes: how many of the first transformer blocks stay frozen
# (of SD3-medium's 24). "all" is its train_all_layers: every parameter trains.
FROZEN_BLOCKS = {"all": 0, "full": 0, "large": 8, "medium": 12, "small": 17}
CONTROL_CAPTIONS = ("control", "target")
MIXED_PRECISIONS = ("no", "fp16", "bf16")
WEIGHTING_SCHEMES = ("logit_normal", "mode", "uniform", "sigma_sqrt", "cosmap")
LR_SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine")
# SD3: the VAE downsamples by 8 and the transformer patches 2 x 2 latents, so sides must divide by 16.
RESOLUTION_MULTIPLE_PX = 16
# The paper's LoRA targets: the attention projections of every joint transformer block.
PAPER_LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


# `python -m core train --paper`: the original scripts' settings over any config (the table in docs/training.md).
PAPER_TRAIN_OVERRIDES = {
    "mixed_precision": "fp16",  # accelerate's fp16 in every original script (bf16: --mixed-precision bf16)
    "seed": 7777,
    "data__caption_preset": "skip_date_location",
    "data__shuffle": False,  # DataLoader(dataset, batch_size=..., num_workers=...): no shuffle
    "optim__learning_rate": 2e-6,
    "optim__adam_weight_decay": 1e-2,
    "optim__lr_scheduler": "constant",
    "optim__weighting_scheme": "logit_normal",
    "optim__prediction_target": "x0",
    "optim__max_grad_norm": 1.0,
}


def paper_overrides(mode: str) -> dict[str, Any]:
    """`PAPER_TRAIN_OVERRIDES` plus what depends on the mode (the VAE shift, the control range, LoRA parts)."""
    overrides: dict[str, Any] = {**PAPER_TRAIN_OVERRIDES, "data__vae_shift": mode in CONTROL_MODES}
    if mode in CONTROL_MODES:
        overrides["controlnet__control_range"] = "0-1"
    if mode == "lora":
        overrides["lora__train_norm_out_proj_out"] = True
    return overrides


def _fail(section: str, name: str, problem: str, fix: str) -> BadRequestError:
    where = f"[{section}] {name}" if section else name
    return BadRequestError(f"Training config: {where} {problem}", fix)


def _check_limits(section: str, obj: Any, checks: dict[str, Any]) -> None:
    """Each named field against its core.limits range; one message naming the field and the range."""
    for name, limit in checks.items():
        where = f"[{section}] {name}" if section else name
        limit.check(f"Training config: {where}", getattr(obj, name))


@dataclass(frozen=True)
class DataConfig:
    """Which samples to train on."""

    # Folder in the EcoMapper layout (<loc>/<loc>_<YYYY-MM>.png + .json), searched recursively.
    data_dir: Path = Path()
    # Square training size; images are resized to it (the paper: 512).
    resolution_px: int = 512
    # Skip months whose cloud_coverage fraction is above this.
    max_cloud_coverage: float = 1.0
    # Use at most this many samples (0 = all); handy for smoke runs.
    max_samples: int = 0
    # Caption preset (core.generation.prompts.CAPTION_PRESETS, the original's configs/caption/*.json);
    # "skip_date_location" is the paper's.
    caption_preset: str = "skip_date_location"
    # ControlNet: whose captions the ControlNet reads: "control" (the control month's own, as the
    # original) or "target" (the month being generated, as diffusers' pipeline does at inference).
    control_caption: str = "control"
    # Subtract the VAE's shift_factor before scaling the target latents (diffusers and the pipeline
    # do; the original train_lora.py / train.py do not, its ControlNet scripts do).
    vae_shift: bool = True
    # T5 tokens for the climate prompt (EcoMapper: 256).
    max_sequence_length: int = 256
    # Worker processes that decode images (0 = in the training process).
    num_workers: int = 0
    # A fresh seeded order every epoch; false keeps the dataset's order (location, month) every epoch,
    # as the original's DataLoader (no shuffle) read its CSVs.
    shuffle: bool = True

    def validate(self) -> None:
        _check_limits(
            "data",
            self,
            {
                "resolution_px": limits.TRAIN_RESOLUTION_PX,
                "max_sequence_length": limits.MAX_SEQUENCE_LENGTH,
                "num_workers": limits.NUM_WORKERS,
            },
        )
        if self.resolution_px <= 0 or self.resolution_px % RESOLUTION_MULTIPLE_PX:
            raise _fail(
                "data",
                "resolution_px",
                f"= {self.resolution_px} is not a positive multiple of {RESOLUTION_MULTIPLE_PX}.",
                "SD3 needs sides divisible by 16 (VAE factor 8 x patch 2); use e.g. 512 or 1024.",
            )
        if not 0.0 <= self.max_cloud_coverage <= 1.0:
            raise _fail("data", "max_cloud_coverage", f"= {self.max_cloud_coverage} is not in 0..1.", "Use 0..1.")
        from core.generation.prompts import CAPTION_PRESETS

        if self.caption_preset not in CAPTION_PRESETS:
            close = difflib.get_close_matches(self.caption_preset, CAPTION_PRESETS, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise _fail(
                "data",
                "caption_preset",
                f"= {self.caption_preset!r} is unknown.",
                f"{hint}Use one of {', '.join(CAPTION_PRESETS)} (the paper: skip_date_location).",
            )
        if self.control_caption not in CONTROL_CAPTIONS:
            raise _fail(
                "data", "control_caption", f"= {self.control_caption!r} is unknown.", 'Use "control" or "target".'
            )
        for name in ("max_samples", "num_workers"):
            if getattr(self, name) < 0:
                raise _fail("data", name, f"= {getattr(self, name)} is negative.", "Use 0 or more.")
        if self.max_sequence_length <= 0:
            raise _fail("data", "max_sequence_length", "must be positive.", "EcoMapper uses 256.")


@dataclass(frozen=True)
class OptimConfig:
    """How long and how fast to train."""

    learning_rate: float = 2e-6
    batch_size: int = 1
    gradient_accumulation_steps: int = 1
    # Optimizer steps; 0 means derive them from num_epochs.
    max_steps: int = 0
    num_epochs: int = 1
    lr_scheduler: str = "constant"
    lr_warmup_steps: int = 0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    # The original scripts: 1e-2 (diffusers' reference SD3 scripts: 1e-4).
    adam_weight_decay: float = 1e-2
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    # Timestep density (SD3 paper: logit-normal, mean 0, std 1) and loss weighting scheme.
    weighting_scheme: str = "logit_normal"
    logit_mean: float = 0.0
    logit_std: float = 1.0
    mode_scale: float = 1.29
    # Recompute activations in the backward pass: much less memory for SD3 at 512 px, ~30 % slower.
    gradient_checkpointing: bool = False
    # Loss target: "x0" (the original's preconditioned target) or "velocity" (diffusers' scripts).
    prediction_target: str = "x0"

    def validate(self) -> None:
        _check_limits(
            "optim",
            self,
            {
                "learning_rate": limits.LEARNING_RATE,
                "batch_size": limits.TRAIN_BATCH_SIZE,
                "gradient_accumulation_steps": limits.GRADIENT_ACCUMULATION,
                "max_steps": limits.TRAIN_MAX_STEPS,
                "num_epochs": limits.TRAIN_EPOCHS,
                "lr_warmup_steps": limits.TRAIN_MAX_STEPS,
            },
        )
        for name in ("adam_beta1", "adam_beta2", "adam_weight_decay", "adam_epsilon", "max_grad_norm", "logit_mean"):
            if not math.isfinite(getattr(self, name)):
                raise _fail("optim", name, f"= {getattr(self, name)} is not a finite number.", "Use a number.")
        if not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise _fail(
                "optim", "learning_rate", f"= {self.learning_rate} is not positive.", "The paper uses 2e-6 for LoRA."
            )
        for name in ("batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) < 1:
                raise _fail("optim", name, f"= {getattr(self, name)} is below 1.", "Use 1 or more.")
        for name in ("max_steps", "num_epochs", "lr_warmup_steps"):
            if getattr(self, name) < 0:
                raise _fail("optim", name, f"= {getattr(self, name)} is negative.", "Use 0 or more.")
        if self.max_steps == 0 and self.num_epochs == 0:
            raise _fail("optim", "max_steps", "and num_epochs are both 0.", "Set max_steps or num_epochs.")
        if self.lr_scheduler not in LR_SCHEDULERS:
            raise _fail(
                "optim",
                "lr_scheduler",
                f"= {self.lr_scheduler!r} is unknown.",
                f"Use one of {', '.join(LR_SCHEDULERS)}.",
            )
        if self.weighting_scheme not in WEIGHTING_SCHEMES:
            raise _fail(
                "optim",
                "weighting_scheme",
                f"= {self.weighting_scheme!r} is unknown.",
                f"Use one of {', '.join(WEIGHTING_SCHEMES)} (the paper: logit_normal).",
            )
        if self.logit_std <= 0 or self.max_grad_norm < 0 or self.adam_epsilon <= 0:
            raise _fail("optim", "logit_std/max_grad_norm/adam_epsilon", "out of range.", "Use positive values.")
        for name in ("adam_beta1", "adam_beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise _fail("optim", name, f"= {getattr(self, name)} is not in [0, 1).", "Use e.g. 0.9 / 0.999.")
        if self.adam_weight_decay < 0:
            raise _fail("optim", "adam_weight_decay", "is negative.", "Use 0 or more.")
        if self.prediction_target not in PREDICTION_TARGETS:
            raise _fail(
                "optim",
                "prediction_target",
                f"= {self.prediction_target!r} is unknown.",
                'Use "x0" (the original EcoMapper scripts) or "velocity" (diffusers).',
            )


@dataclass(frozen=True)
class LoraConfig:
    """LoRA adapter on the SD3 transformer (EcoMapper: r=64, alpha=64 on the attention projections)."""

    rank: int = 64
    alpha: float = 64.0
    target_modules: tuple[str, ...] = PAPER_LORA_TARGETS
    dropout: float = 0.0
    # Also train the transformer's norm_out and proj_out fully (the original train_lora.py at 512 px).
    train_norm_out_proj_out: bool = False
    # controlnet_lora: a LoRA of the transformer to start from (ours or the original's
    # transformer.safetensors); it is applied to the frozen transformer and copied into the ControlNet.
    init_weights: Path | None = None

    def validate(self) -> None:
        _check_limits("lora", self, {"rank": limits.LORA_RANK, "alpha": limits.LORA_ALPHA})
        if self.rank < 1 or self.alpha <= 0:
            raise _fail("lora", "rank/alpha", f"= {self.rank}/{self.alpha} must be positive.", "The paper uses 64/64.")
        if not self.target_modules:
            raise _fail("lora", "target_modules", "is empty.", f"The paper uses {list(PAPER_LORA_TARGETS)}.")
        if not 0.0 <= self.dropout < 1.0:
            raise _fail("lora", "dropout", f"= {self.dropout} is not in [0, 1).", "Use 0.0 as the paper.")


@dataclass(frozen=True)
class ControlNetConfig:
    """SD3 ControlNet built from the transformer; the control image is an earlier month of the same place."""

    num_layers: int = 12
    # The control image is taken from 1..6 months before the target month (EcoMapper).
    min_months_before: int = 1
    max_months_before: int = 6
    conditioning_scale: float = 1.0
    # "0-1": the control image in [0, 1] and its latents without the VAE shift (the original);
    # "-1-1": as diffusers' SD3 ControlNet pipeline. Recorded with the weights for loading.
    control_range: str = "-1-1"

    def validate(self) -> None:
        _check_limits("controlnet", self, {"num_layers": limits.CONTROLNET_LAYERS})
        limits.CONTROLNET_SCALE.check("Training config: [controlnet] conditioning_scale", self.conditioning_scale)
        if self.control_range not in CONTROL_RANGES:
            raise _fail("controlnet", "control_range", f"= {self.control_range!r} is unknown.", 'Use "0-1" or "-1-1".')
        if self.num_layers < 1:
            raise _fail("controlnet", "num_layers", f"= {self.num_layers} is below 1.", "The paper uses 12.")
        if not 1 <= self.min_months_before <= self.max_months_before:
            raise _fail(
                "controlnet",
                "min_months_before/max_months_before",
                f"= {self.min_months_before}/{self.max_months_before} is not an interval of 1 or more months.",
                "The paper uses 1 and 6.",
            )
        if self.conditioning_scale <= 0:
            raise _fail("controlnet", "conditioning_scale", "must be positive.", "Use 1.0.")


@dataclass(frozen=True)
class FullConfig:
    """Full fine-tuning of the transformer (the original train.py)."""

    # "all" trains every parameter (train_all_layers); "full" / "large" / "medium" / "small" freeze the
    # first 0 / 8 / 12 / 17 transformer blocks and the patch embedding, and train the other blocks,
    # time_text_embed, context_embedder, norm_out and proj_out.
    blocks: str = "all"

    def validate(self) -> None:
        if self.blocks not in FROZEN_BLOCKS:
            raise _fail("full", "blocks", f"= {self.blocks!r} is unknown.", f"Use one of {', '.join(FROZEN_BLOCKS)}.")


@dataclass(frozen=True)
class ValidationConfig:
    """Images generated during training to watch progress."""

    # 0 turns validation off.
    every_steps: int = 0
    # Free-form prompts; empty means the full EcoMapper prompts of the first samples.
    prompts: tuple[str, ...] = ()
    num_images: int = 2
    num_inference_steps: int = 20
    guidance_scale: float = 7.5

    def validate(self) -> None:
        _check_limits(
            "validation",
            self,
            {
                "num_images": limits.VALIDATION_IMAGES,
                "num_inference_steps": limits.VALIDATION_STEPS,
                "guidance_scale": limits.GUIDANCE_SCALE,
            },
        )
        for name in ("every_steps", "num_images", "num_inference_steps"):
            if getattr(self, name) < 0:
                raise _fail("validation", name, f"= {getattr(self, name)} is negative.", "Use 0 or more.")
        if self.every_steps and (self.num_images < 1 or self.num_inference_steps < 1):
            raise _fail("validation", "num_images/num_inference_steps", "must be 1 or more.", "Or set every_steps=0.")


@dataclass(frozen=True)
class CheckpointConfig:
    """Resumable training state (model, optimizer, RNG, step) under <output_dir>/checkpoints."""

    # 0 saves only at the end.
    every_steps: int = 500
    # Older checkpoints beyond this many are deleted (0 keeps all).
    keep_last: int = 3
    # "latest" resumes from the newest checkpoint in output_dir if any, "none" starts over, or a path.
    resume: str = "latest"

    def validate(self) -> None:
        if self.every_steps < 0 or self.keep_last < 0:
            raise _fail("checkpoints", "every_steps/keep_last", "is negative.", "Use 0 or more.")
        if not self.resume:
            raise _fail("checkpoints", "resume", "is empty.", 'Use "latest", "none" or a checkpoint folder.')


@dataclass(frozen=True)
class TrainConfig:
    """A complete fine-tuning run. Build it with `load_train_config(path)` or `TrainConfig.from_dict`."""

    # "lora" (text-to-image LoRA) or "controlnet" (transformer frozen).
    mode: str = "lora"
    # "tiny-random", "sd3-medium", a Hub id or a local diffusers folder (anything core.models loads).
    base_model: str = "sd3-medium"
    output_dir: Path = Path("runs/train")
    seed: int = 0
    mixed_precision: str = "no"
    # Precompute VAE latent distributions once per image (same loss, much faster); the disk it needs is
    # logged before it starts (core.train.cache.estimate_cache).
    cache_latents: bool = False
    # Also cache the text embeddings of every caption variant: ~2.7 MB per prompt pair in fp16, up to 12 pairs
    # per image under skip_date_location (~78 TB at the paper's 2.37 M images); off: recomputed in each step.
    cache_text_embeddings: bool = False
    # Where the cache lives; empty means <output_dir>/cache.
    cache_dir: Path | None = None
    # Loss written to <output_dir>/loss.csv every this many optimizer steps.
    log_every_steps: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    controlnet: ControlNetConfig = field(default_factory=ControlNetConfig)
    full: FullConfig = field(default_factory=FullConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    checkpoints: CheckpointConfig = field(default_factory=CheckpointConfig)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise _fail("", "mode", f"= {self.mode!r} is unknown.", f"Use one of {', '.join(MODES)}.")
        if self.mixed_precision not in MIXED_PRECISIONS:
            raise _fail(
                "",
                "mixed_precision",
                f"= {self.mixed_precision!r} is unknown.",
                f"Use one of {', '.join(MIXED_PRECISIONS)} (bf16 on recent GPUs, no on a CPU).",
            )
        if not self.base_model:
            raise _fail("", "base_model", "is empty.", 'Use "sd3-medium", "tiny-random" or a local model folder.')
        _check_limits("", self, {"seed": limits.TRAIN_SEED})
        if self.log_every_steps < 1:
            raise _fail("", "log_every_steps", f"= {self.log_every_steps} is below 1.", "Use 1 or more.")
        sections = (self.data, self.optim, self.lora, self.controlnet, self.full, self.validation, self.checkpoints)
        for section in sections:
            section.validate()

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.output_dir / "cache"

    def check_paths(self) -> None:
        """Raise unless the data folder exists (called before any model is loaded)."""
        data_dir = self.data.data_dir
        if not str(data_dir) or not data_dir.is_dir():
            raise _fail(
                "data",
                "data_dir",
                f"= {str(data_dir)!r} is not an existing folder.",
                "Point it at a dataset in the EcoMapper layout (python -m core build-dataset writes one).",
            )

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base_dir: Path | None = None, *, check_paths: bool = True) -> TrainConfig:
        """Build and validate a config from parsed TOML; relative paths are taken from `base_dir` (or the cwd).

        `check_paths=False` leaves the data folder unchecked, for callers that override it next
        (`train` checks it again before any work).
        """
        config = _build(cls, raw, "", base_dir)
        if check_paths:
            config.check_paths()
        return config

    def with_overrides(self, **changes: Any) -> TrainConfig:
        """A copy with top-level fields or `section__field` entries changed, parsed and validated as TOML values."""
        plain = self.to_dict()
        for key, value in changes.items():
            section, _, name = key.rpartition("__")
            target = plain[section] if section else plain
            if name not in target:
                raise _fail(section, name, "is not a known setting.", "Check the override's name.")
            target[name] = _to_plain(value)
        return _build(TrainConfig, plain, "", None)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (TOML/JSON-safe) of every setting."""
        return _to_plain(self)


def load_train_config(path: str | Path, *, check_paths: bool = True) -> TrainConfig:
    """Read a training config from a TOML file; every problem raises BadRequestError before any work.

    Args:
        path: the TOML file. Relative paths inside it are resolved against the current directory.
        check_paths: check that `[data] data_dir` exists; off when the caller overrides it next.

    Returns:
        The validated `TrainConfig`.
    """
    config_path = Path(path)
    check_input_file(
        config_path, "training config", "Pass an existing TOML file, e.g. assets/presets/train_lora_tiny.toml."
    )
    raw = read_toml(config_path, "training config")
    return TrainConfig.from_dict(raw, check_paths=check_paths)


def _build(cls: type, raw: Any, section: str, base_dir: Path | None) -> Any:
    if not isinstance(raw, dict):
        raise _fail("", section, f"must be a table, not {type(raw).__name__}.", f"Write it as [{section}].")
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            raise _fail(section, key, "is not a known setting.", f"{hint}Known: {', '.join(sorted(known))}.")
        kind = hints[key]
        if is_dataclass(kind):
            values[key] = _build(kind, value, key, base_dir)
        else:
            values[key] = _coerce(section, key, kind, value, base_dir)
    for name, spec in known.items():
        if name not in values and spec.default is MISSING and spec.default_factory is MISSING:
            raise _fail(section, name, "is required.", "Add it to the config.")
    return cls(**values)


def _coerce(section: str, key: str, kind: Any, value: Any, base_dir: Path | None) -> Any:
    text = str(kind)

    def wrong(expected: str) -> BadRequestError:
        return _fail(section, key, f"= {value!r} is not {expected}.", f"Write {key} as {expected}.")

    if kind is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if "Path" in text:
        if not isinstance(value, str):
            raise wrong("a path string")
        if value == "" and "None" in text:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or base_dir is None else base_dir / path
    if "tuple" in text:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(value)
    raise wrong(text)  # pragma: no cover - every field type is handled above


def _to_plain(obj: Any) -> Any:
    if is_dataclass(obj):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple):
        return list(obj)
    if obj is None:
        return ""
    return obj
