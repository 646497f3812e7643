"""Fine-tuning DiffusionSat with three weather scalars (EcoMapper's DiffusionSat-FT idea) on an EcoMapper dataset.

The published 7-scalar UNet is widened to 10 metadata embeddings (temperature, precipitation,
radiation; `core.models.backends.metadata`). The three new embeddings start with a zero output
layer, so step 0 reproduces the published model. Training is DiffusionSat's own objective: v-prediction
on SD 2.1 latents, the text prompt dropped to "" and each metadata scalar dropped to 0 with p = 0.1
(classifier-free guidance needs both). Run with `python -m core train --config` on a TOML whose
`mode = "diffusionsat-weather"` (preset: `assets/presets/train_diffusionsat_weather_tiny.toml`).
The output folder is a whole pipeline that loads as `diffusionsat-weather` from `checkpoints/`.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.errors import BadRequestError
from core.io.inputs import read_toml

log = logging.getLogger(__name__)

MODE = "diffusionsat-weather"
INIT_IDS = ("diffusionsat-256", "diffusionsat-512", "tiny-diffusionsat")
DROP_PROBABILITY = 0.1  # DiffusionSat's training drops each metadata scalar (and the caption) this often


@dataclass(frozen=True)
class WeatherTrainConfig:
    """What to train.

    Args:
        data_dir: EcoMapper dataset folder (samples without climate are left out).
        output_dir: where the pipeline, the loss log and the config go.
        init: the 7-scalar model to start from (diffusionsat-256 / -512, or tiny-diffusionsat for smoke runs).
        resolution_px: training image size (256 for diffusionsat-256).
        learning_rate, max_steps, batch_size, weight_decay: the optimiser.
        seed: data order, noise and dropout.
        max_samples: use at most this many samples (0 = all).
    """

    data_dir: Path
    output_dir: Path
    init: str = "diffusionsat-256"
    resolution_px: int = 256
    learning_rate: float = 1e-5
    max_steps: int = 1000
    batch_size: int = 4
    weight_decay: float = 1e-2
    seed: int = 0
    max_samples: int = 0

    def __post_init__(self) -> None:
        if self.init not in INIT_IDS:
            raise BadRequestError(f"init {self.init!r} is not a DiffusionSat model.", f"Use one of {INIT_IDS}.")
        if self.resolution_px % 8 or not 64 <= self.resolution_px <= 1024:
            raise BadRequestError(f"resolution_px {self.resolution_px} is not a multiple of 8 in 64..1024.", "Use 256.")
        for name in ("max_steps", "batch_size"):
            if getattr(self, name) < 1:
                raise BadRequestError(f"{name} must be at least 1.", f"Set {name} = 1 or more.")
        if not self.learning_rate > 0:
            raise BadRequestError(f"learning_rate {self.learning_rate} must be positive.", "Use e.g. 1e-5.")

    @classmethod
    def from_toml(cls, path: Path, **overrides) -> WeatherTrainConfig:
        """Read the TOML (strict: unknown keys are errors); paths are relative to the file."""
        raw = read_toml(path, "training config")
        if raw.pop("mode", MODE) != MODE:
            raise BadRequestError(f"{path} is not a {MODE} config.", f'Set mode = "{MODE}".')
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise BadRequestError(f"Unknown keys in {path}: {', '.join(unknown)}.", f"Use: {', '.join(sorted(known))}.")
        values = {**raw, **{k: v for k, v in overrides.items() if v is not None}}
        for key in ("data_dir", "output_dir"):
            if key not in values:
                raise BadRequestError(f"{path} lacks {key}.", f"Add {key} = '...'.")
            folder = Path(values[key]).expanduser()
            values[key] = folder if folder.is_absolute() else (Path(path).parent / folder).resolve()
        return cls(**values)


@dataclass(frozen=True)
class WeatherTrainResult:
    output_dir: Path
    losses: list[tuple[int, float]]
    loss_csv: Path
    elapsed_s: float


def widen_to_weather(unet):
    """A 10-scalar DiffusionSatUNet carrying `unet`'s weights; the 3 new embeddings output zeros at first."""
    import torch

    from core.models.backends.diffusionsat_unet import WEATHER_METADATA, DiffusionSatUNet

    config = {k: v for k, v in unet.config.items() if not k.startswith("_")}
    config["num_metadata"] = WEATHER_METADATA
    wide = DiffusionSatUNet(**config)
    missing, unexpected = wide.load_state_dict(unet.state_dict(), strict=False)
    new = {f"metadata_embedding.{i}" for i in range(unet.config.num_metadata, WEATHER_METADATA)}
    if unexpected or any(not any(k.startswith(p + ".") for p in new) for k in missing):
        raise RuntimeError(f"widening the UNet lost weights: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for i in range(unet.config.num_metadata, WEATHER_METADATA):
            wide.metadata_embedding[i].linear_2.weight.zero_()
            wide.metadata_embedding[i].linear_2.bias.zero_()
    return wide if unet.dtype == torch.float32 else wide.to(dtype=unet.dtype)


def _declare_unet_as_diffusers(index_file: Path) -> None:
    """List the UNet as diffusers' UNet2DConditionModel in model_index.json (our loader builds the subclass).

    save_pretrained records the subclass's own module, which diffusers cannot import when loading.
    """
    import json

    from core.io.files import atomic_write_json

    index = json.loads(index_file.read_text())
    index["unet"] = ["diffusers", "UNet2DConditionModel"]
    atomic_write_json(index_file, index)


def _examples(config: WeatherTrainConfig):
    from core.dataset.reader import read_dataset

    dataset = read_dataset(config.data_dir)
    usable = [s for s in dataset.samples if s.metadata.climate is not None and s.metadata.land_cover]
    if config.max_samples:
        usable = usable[: config.max_samples]
    if not usable:
        raise BadRequestError(
            f"No sample in {config.data_dir} has a climate to train the weather embeddings on.",
            "Use an EcoMapper dataset with temperature, precipitation and radiation in its JSON files.",
        )
    return usable


def train_weather_diffusionsat(config: WeatherTrainConfig, settings: Settings, progress=None) -> WeatherTrainResult:
    """Fine-tune and save; see the module docstring."""
    import numpy as np
    import torch
    from accelerate import Accelerator
    from diffusers import DDPMScheduler
    from PIL import Image

    from core.generation.request import GenerationRequest
    from core.io.files import atomic_write_text
    from core.models.backends import load_backend
    from core.models.backends.diffusionsat import DiffusionSatBackend
    from core.models.backends.registry import TINY_BACKENDS
    from core.models.backends.sd_common import spatial_prompt

    started = time.perf_counter()
    examples = _examples(config)  # 1. data first: a bad folder fails before any model loads
    accelerator = Accelerator(cpu=settings.device == "cpu")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    base: DiffusionSatBackend = load_backend(config.init, settings)  # 2. the published 7-scalar model
    pipe = base.pipe
    unet = widen_to_weather(pipe.unet).train()
    weather = DiffusionSatBackend(TINY_BACKENDS["tiny-diffusionsat-weather"], pipe)  # its metadata_for only
    weather.num_metadata = unet.config.num_metadata
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)  # v-prediction, as the base
    for frozen in (pipe.vae, pipe.text_encoder):
        frozen.requires_grad_(False)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    unet, optimizer = accelerator.prepare(unet, optimizer)
    device = accelerator.device
    pipe.vae.to(device)
    pipe.text_encoder.to(device)

    def batch_tensors(batch):
        pixels, prompts, metadata = [], [], []
        for sample in batch:
            meta = sample.metadata
            image = Image.fromarray(sample.image).resize((config.resolution_px,) * 2, Image.Resampling.LANCZOS)
            pixels.append(torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 127.5 - 1.0)
            request = GenerationRequest.from_record(meta, size_px=config.resolution_px).with_place()
            prompts.append("" if rng.random() < DROP_PROBABILITY else spatial_prompt(request))
            values = weather.metadata_for(request)
            metadata.append([0.0 if rng.random() < DROP_PROBABILITY else v for v in values])
        return torch.stack(pixels).to(device), prompts, torch.tensor(metadata, device=device)

    losses: list[tuple[int, float]] = []
    order: list[int] = []
    for step in range(1, config.max_steps + 1):
        if len(order) < config.batch_size:
            order += list(rng.permutation(len(examples)))
        batch = [examples[i] for i in order[: config.batch_size]]
        order = order[config.batch_size :]
        pixels, prompts, metadata = batch_tensors(batch)
        with torch.no_grad():
            latents = pipe.vae.encode(pixels).latent_dist.sample() * pipe.vae.config.scaling_factor
            ids = pipe.tokenizer(
                prompts, padding="max_length", max_length=pipe.tokenizer.model_max_length, truncation=True,
                return_tensors="pt",
            ).input_ids.to(device)  # fmt: skip
            text = pipe.text_encoder(ids)[0]
        noise = torch.randn_like(latents)
        timesteps = torch.randint(0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), device=device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        target = noise_scheduler.get_velocity(latents, noise, timesteps)
        prediction = unet(noisy, timesteps, text, metadata=metadata).sample
        loss = torch.nn.functional.mse_loss(prediction.float(), target.float())
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise BadRequestError(f"The loss became {value} at step {step}.", "Lower learning_rate.")
        losses.append((step, value))
        if progress is not None:
            progress(step, config.max_steps, f"step {step}: loss {value:.4f}")

    # 3. save a whole pipeline, so the folder loads as diffusionsat-weather on its own
    pipe.unet = accelerator.unwrap_model(unet).eval()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(config.output_dir)
    _declare_unet_as_diffusers(config.output_dir / "model_index.json")
    loss_csv = config.output_dir / "loss.csv"
    with loss_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss"])
        writer.writerows(losses)
    atomic_write_text(
        config.output_dir / "train_config.txt",
        "\n".join(f"{k} = {getattr(config, k)!s}" for k in config.__dataclass_fields__) + "\n",
    )
    return WeatherTrainResult(config.output_dir, losses, loss_csv, time.perf_counter() - started)


def weather_config_if_asked(config_path: Path, **overrides) -> WeatherTrainConfig | None:
    """The config when the TOML says `mode = "diffusionsat-weather"` (for `python -m core train`), else None."""
    mode = read_toml(config_path, "training config").get("mode")
    return WeatherTrainConfig.from_toml(config_path, **overrides) if mode == MODE else None
