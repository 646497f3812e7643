"""`train(config, settings)`: LoRA or ControlNet fine-tuning of SD3 with flow matching, via accelerate."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import core.train.adapters as adapters
import core.train.run_files as run_files
from core.config import Settings
from core.errors import BadRequestError, CancelledError, EcoMapperError
from core.io.files import atomic_write_json
from core.train.batches import BatchPlan, derived_seed
from core.train.config import CONTROL_MODES, TrainConfig
from core.train.examples import load_examples, target_indices
from core.train.flow_matching import flow_matching_loss, noise_batch, training_schedule

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        weights_dir: the LoRA folder (`pytorch_lora_weights.safetensors`) or the ControlNet folder,
            loadable by `core.models` (`ModelSpec(lora=...)` / `ModelSpec(controlnet=...)`).
        losses: (optimizer step, loss averaged over the accumulated micro-batches) of this run.
    """

    mode: str
    output_dir: Path
    weights_dir: Path
    start_step: int
    final_step: int
    losses: tuple[tuple[int, float], ...]
    loss_csv: Path
    checkpoints: tuple[Path, ...]
    validation_images: tuple[Path, ...]
    elapsed_s: float
    # False in the other processes of a multi-GPU run (only the main process writes files and reports).
    is_main_process: bool = True


class _StepCounter:
    """Saved with every accelerate checkpoint so that a resumed run knows where it is."""

    def __init__(self) -> None:
        self.step = 0

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.step = int(state["step"])


def train(
    config: TrainConfig,
    settings: Settings,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """Fine-tune SD3 as EcoMapper did and write weights that `core.models` loads.

    Steps: 1. check the data and gather examples (before any model loads); 2. load the base
    pipeline; 3. attach the trainable part (LoRA or ControlNet); 4. optionally cache latents and
    text embeddings; 5. optimise with flow matching, checkpointing, logging and validating;
    6. save the final weights.

    Args:
        config: the validated `TrainConfig`.
        settings: where models and caches live.
        progress: optional callable(step, total_steps, message).
        cancel: optional event; when set, a checkpoint is written and `CancelledError` raised.

    Returns:
        `TrainResult` with the weights folder, the losses and the files written.
    """
    started = time.perf_counter()
    config.check_paths()
    from core.io.outputs import check_output_dir

    check_output_dir(config.output_dir, "Training config: output_dir")
    examples = load_examples(config)
    targets = target_indices(examples, config.mode, config.data.max_samples)
    run = _Run(config, settings, examples, targets, progress, cancel)
    return run.execute(started)


class _Run:
    """State of one training run; `execute` reads as the numbered steps of `train`."""

    def __init__(self, config, settings, examples, targets, progress, cancel) -> None:
        self.config = config
        self.settings = settings
        self.examples = examples
        self.targets = targets
        self.progress = progress
        self.cancel = cancel
        self.output_dir = Path(config.output_dir)

    # ------------------------------------------------------------------ setup

    def execute(self, started: float) -> TrainResult:
        import torch
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration, set_seed

        config = self.config
        accelerator = Accelerator(
            mixed_precision=config.mixed_precision,
            gradient_accumulation_steps=config.optim.gradient_accumulation_steps,
            project_config=ProjectConfiguration(project_dir=str(self.output_dir)),
            cpu=self.settings.device == "cpu",
        )
        if config.mixed_precision == "fp16" and accelerator.device.type == "cpu":
            raise BadRequestError(
                "Training config: mixed_precision = 'fp16' needs a GPU, but training runs on the CPU.",
                'Use mixed_precision = "no" (or "bf16") on a CPU.',
            )
        self.accelerator = accelerator
        set_seed(config.seed)
        self.weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(config.mixed_precision, torch.float32)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if accelerator.is_main_process:
            atomic_write_json(self.output_dir / "train_config.json", config.to_dict())

        resume_from = self._checkpoint_to_resume()
        self._load_models()
        self._attach_trainable()
        self._make_optimizer()
        counter = _StepCounter()
        accelerator.register_for_checkpointing(counter)
        accelerator.register_save_state_pre_hook(self._save_hook)
        accelerator.register_load_state_pre_hook(self._load_hook)
        if resume_from is not None:
            try:
                accelerator.load_state(str(resume_from))
            except RuntimeError as err:  # shapes differ: the config changed since the checkpoint
                raise BadRequestError(
                    f"Cannot resume from {resume_from}: its weights do not fit this config "
                    f"({_first_line(err)}); was [lora] rank, [controlnet] num_layers or the base model changed?",
                    'Restore the earlier settings, use another output_dir, or set checkpoints.resume = "none".',
                ) from err
            log.info("resumed from %s at step %d", resume_from, counter.step)
        self.counter = counter
        start_step = counter.step

        self.cache = self._prepare_cache() if config.cache_latents else None
        self.validation = self._prepare_validation() if config.validation.every_steps else None
        if self.cache is not None and config.cache_text_embeddings:
            # Every embedding is on disk and validation prompts are encoded: the text encoders
            # (T5-XXL alone is ~9 GB in fp16) can leave the accelerator.
            for name in ("text_encoder", "text_encoder_2", "text_encoder_3"):
                module = getattr(self.pipe, name, None)
                if module is not None:
                    module.to("cpu")
        losses, checkpoints, images = self._optimise(start_step)
        weights_dir = self._save_final()
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return TrainResult(
            mode=config.mode,
            output_dir=self.output_dir,
            weights_dir=weights_dir,
            start_step=start_step,
            final_step=self.counter.step,
            losses=tuple(losses),
            loss_csv=self.output_dir / "loss.csv",
            checkpoints=tuple(checkpoints),
            validation_images=tuple(images),
            elapsed_s=time.perf_counter() - started,
            is_main_process=accelerator.is_main_process,
        )

    def _checkpoint_to_resume(self) -> Path | None:
        """The checkpoint this run continues, checked before any model is loaded."""
        config = self.config
        resume_from = run_files.resolve_resume(self.output_dir, config.checkpoints.resume)
        if resume_from is not None:
            saved_mode = run_files.read_state_file(resume_from).get("mode")
            if saved_mode != config.mode:
                raise BadRequestError(
                    f"Cannot resume {config.mode} training from {resume_from}: it is a {saved_mode} checkpoint.",
                    'Use another output_dir, or set checkpoints.resume = "none" to start over.',
                )
        return resume_from

    def _load_models(self) -> None:
        """The base pipeline; frozen parts on the device in the compute dtype."""
        import torch

        pipe = load_base_pipeline(self.config.base_model, self.settings)
        device = self.accelerator.device
        for name in ("text_encoder", "text_encoder_2", "text_encoder_3", "transformer"):
            module = getattr(pipe, name, None)
            if module is not None:
                module.requires_grad_(False)
                _place(module, device, self.weight_dtype)
        # The VAE stays in float32: its latents feed the loss directly and fp16 VAEs overflow.
        pipe.vae.requires_grad_(False)
        _place(pipe.vae, device, torch.float32)
        self.pipe = pipe
        self.schedule = training_schedule(pipe.scheduler)
        self.vae_shift_value = float(getattr(pipe.vae.config, "shift_factor", 0.0) or 0.0)
        # the original train_lora.py / train.py scale the latents without the shift (`[data] vae_shift`)
        self.vae_shift = self.vae_shift_value if self.config.data.vae_shift else 0.0
        self.vae_scale = float(pipe.vae.config.scaling_factor)

    def _attach_trainable(self) -> None:
        """The trainable part of each mode, with the original scripts' trainable sets."""
        import torch

        config = self.config
        transformer = self.pipe.transformer
        if config.optim.gradient_checkpointing:
            transformer.enable_gradient_checkpointing()
        self.controlnet = None
        if config.mode in CONTROL_MODES:
            controlnet = adapters.build_controlnet(transformer, config.controlnet.num_layers)
            if config.controlnet.control_range == "0-1":
                # the original fed the real pooled text projection to its ControlNet
                controlnet.register_to_config(force_zeros_for_pooled_projection=False)
            if config.mode == "controlnet_lora":
                adapters.check_lora_targets(controlnet, config.lora.target_modules)
                adapters.add_lora(controlnet, config.lora)
                if config.lora.init_weights is not None:
                    adapters.load_initial_lora(transformer, controlnet, config.lora)
                controlnet.requires_grad_(True)  # the original trains the whole ControlNet, LoRA layers included
            _place(controlnet, self.accelerator.device, torch.float32)
            controlnet.train()
            if config.optim.gradient_checkpointing:
                controlnet.enable_gradient_checkpointing()
            transformer.eval()
            self.model = controlnet
            self.controlnet = controlnet
            return
        if config.mode == "lora":
            adapters.check_lora_targets(transformer, config.lora.target_modules)
            adapters.add_lora(transformer, config.lora)
            if config.lora.train_norm_out_proj_out:
                transformer.norm_out.requires_grad_(True)
                transformer.proj_out.requires_grad_(True)
        else:
            adapters.set_full_trainable(transformer, config.full.blocks)
        for param in transformer.parameters():
            if param.requires_grad:
                param.data = param.data.to(torch.float32)  # trainable weights in fp32 under mixed precision
        transformer.train()
        self.model = transformer

    def _make_optimizer(self) -> None:
        import torch
        from diffusers.optimization import get_scheduler

        optim = self.config.optim
        params = [p for p in self.model.parameters() if p.requires_grad]
        # recorded in train_summary.json: which weights this mode trains
        self.trainable_names = [name for name, p in self.model.named_parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            params,
            lr=optim.learning_rate,
            betas=(optim.adam_beta1, optim.adam_beta2),
            weight_decay=optim.adam_weight_decay,
            eps=optim.adam_epsilon,
        )
        processes = self.accelerator.num_processes
        self.total_steps = self._total_steps()
        scheduler = get_scheduler(
            optim.lr_scheduler,
            optimizer=optimizer,
            num_warmup_steps=optim.lr_warmup_steps * processes,
            num_training_steps=self.total_steps * processes,
        )
        self.model, self.optimizer, self.lr_scheduler = self.accelerator.prepare(self.model, optimizer, scheduler)
        log.info("%d trainable parameters, %d steps", sum(p.numel() for p in params), self.total_steps)

    def _total_steps(self) -> int:
        optim = self.config.optim
        if optim.max_steps:
            return optim.max_steps
        per_step = optim.batch_size * optim.gradient_accumulation_steps * self.accelerator.num_processes
        return max(1, math.ceil(len(self.targets) / per_step)) * optim.num_epochs

    # ------------------------------------------------------------------ encoders

    def encode_images(self, paths: list[Path]) -> Any:
        """Image files -> VAE posterior parameters (mean and log-variance), (N, 2C, h, w)."""
        import torch

        from core.train.batches import load_pixels

        pixels = torch.stack([load_pixels(p, self.config.data.resolution_px) for p in paths])
        return self.encode_pixels(pixels)

    def encode_pixels(self, pixels: Any) -> Any:
        import torch

        with torch.no_grad():
            return self.pipe.vae.encode(pixels.to(self.accelerator.device, torch.float32)).latent_dist.parameters

    def encode_texts(self, spatial: list[str], climate: list[str]) -> tuple[Any, Any]:
        """Prompts -> (prompt_embeds, pooled_prompt_embeds) exactly as the SD3 pipeline encodes them."""
        import torch

        with torch.no_grad():
            embeds, _, pooled, _ = self.pipe.encode_prompt(
                prompt=spatial,
                prompt_2=spatial,
                prompt_3=climate,
                device=self.accelerator.device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=False,
                max_sequence_length=self.config.data.max_sequence_length,
            )
        return embeds, pooled

    def _prepare_cache(self) -> Any:
        from core.train.cache import FeatureCache, check_cache_disk, fill_cache

        config = self.config
        cache = FeatureCache(
            config.resolved_cache_dir, config.base_model, config.data.resolution_px, config.data.max_sequence_length
        )
        # Only the main process writes; the others wait and then read the same files.
        # Latents for the targets and their control months; text only for the targets.
        needed = sorted({*self.targets, *(c for i in self.targets for c in self.examples[i].control_indices)})
        # the ControlNet reads the control month's own captions (`control_caption = "control"`)
        text_needed = needed if config.data.control_caption == "control" else self.targets
        if not config.cache_text_embeddings:
            text_needed = []  # recomputed in each step (core.train.cache: their disk is rarely affordable)
        check_cache_disk(cache, self._cache_estimate(needed, text_needed))
        if self.accelerator.is_main_process:
            fill_cache(
                cache,
                [self.examples[i] for i in needed],
                [self.examples[i] for i in text_needed],
                self.encode_images,
                self.encode_texts,
                config.data,
                progress=self.progress,
            )
        self.accelerator.wait_for_everyone()
        return cache

    def _cache_estimate(self, images: list[int], texts: list[int]) -> Any:
        from core.train.batches import prompt_variants
        from core.train.cache import estimate_cache

        pairs = {pair for i in texts for pair in prompt_variants(self.examples[i].prompt_inputs, self.config.data)}
        return estimate_cache(
            len(images),
            len(pairs),
            self.config.data.resolution_px,
            latent_channels=int(self.pipe.vae.config.latent_channels),
            max_sequence_length=self.config.data.max_sequence_length,
            text_bytes_per_value=2 if self.config.mixed_precision in ("fp16", "bf16") else 4,
        )

    def _prepare_validation(self) -> Any:
        from core.train.validation import build_validation_set

        return build_validation_set(self.config, self.examples, self.targets, self.encode_texts)

    # ------------------------------------------------------------------ the loop

    def _optimise(self, start_step: int) -> tuple[list[tuple[int, float]], list[Path], list[Path]]:
        import torch
        from tqdm.auto import tqdm

        from core.train.loader import MicroBatchDataset

        config, accelerator = self.config, self.accelerator
        accumulation = config.optim.gradient_accumulation_steps
        plan = BatchPlan(
            tuple(self.targets), config.optim.batch_size, accelerator.num_processes, config.seed, config.data.shuffle
        )
        dataset = MicroBatchDataset(
            plan,
            self.examples,
            config.data,
            config.mode,
            accelerator.process_index,
            cache=self.cache,
            control_range=config.controlnet.control_range,
            cache_text=config.cache_text_embeddings,
        )
        first_micro, last_micro = start_step * accumulation, self.total_steps * accumulation
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=None,
            sampler=range(first_micro, last_micro),
            num_workers=config.data.num_workers,
        )
        loss_log = None
        if accelerator.is_main_process:
            loss_log = run_files.LossLog(self.output_dir / "loss.csv", start_step if start_step else None)
        bar = tqdm(
            total=self.total_steps,
            initial=start_step,
            desc=f"train {config.mode}",
            unit="step",
            disable=not accelerator.is_local_main_process,
        )
        losses: list[tuple[int, float]] = []
        checkpoints: list[Path] = []
        images: list[Path] = []
        accumulated = torch.zeros((), device=accelerator.device)
        run_started = time.perf_counter()
        for batch in loader:
            with accelerator.accumulate(self.model):
                loss = self._loss(batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.optim.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(self.model.parameters(), config.optim.max_grad_norm)
                self.optimizer.step()
                self.lr_scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
            accumulated += loss.detach() / accumulation
            if not accelerator.sync_gradients:
                continue
            self.counter.step += 1
            step = self.counter.step
            step_loss = accelerator.gather(accumulated.reshape(1)).mean().item()
            if not math.isfinite(step_loss):
                bar.close()
                # the same gathered value on every process, so all of them stop here together
                raise TrainingDivergedError(
                    f"Training loss became {step_loss} at step {step}; stopped without saving these weights.",
                    "Lower [optim] learning_rate, check [lora] alpha and the data, or resume from an earlier "
                    "checkpoint (the last good one is kept).",
                )
            accumulated.zero_()
            losses.append((step, step_loss))
            learning_rate = self.lr_scheduler.get_last_lr()[0]
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{learning_rate:.2e}")
            if loss_log is not None and (step % config.log_every_steps == 0 or step == self.total_steps):
                epoch = plan.epoch_of(batch["micro_step"])
                loss_log.append(step, step_loss, learning_rate, epoch, time.perf_counter() - run_started)
            if self.progress:
                self.progress(step, self.total_steps, f"step {step}/{self.total_steps} loss {step_loss:.4f}")
            every = config.checkpoints.every_steps
            if (every and step % every == 0) or step == self.total_steps:
                checkpoints.append(self._checkpoint(step))
            if self.validation is not None and step % config.validation.every_steps == 0:
                images.extend(self._validate(step))
            if self.cancel is not None and self.cancel.is_set():
                if not checkpoints or checkpoints[-1] != run_files.checkpoint_dir(self.output_dir, step):
                    self._checkpoint(step)
                bar.close()
                raise CancelledError(
                    f"Training cancelled at step {step}; a checkpoint was written to {self.output_dir}.",
                    'Run the same config again (checkpoints.resume = "latest") to continue.',
                )
        bar.close()
        return losses, checkpoints, images

    def _loss(self, batch: dict[str, Any]) -> Any:
        """The flow-matching loss of one micro-batch; all randomness from the step's own generator."""
        import torch
        from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

        accelerator = self.accelerator
        device = accelerator.device
        generator = torch.Generator("cpu").manual_seed(
            derived_seed(self.config.seed, "noise", batch["micro_step"], accelerator.process_index)
        )
        # 1. clean latents (and control latents) drawn from the VAE posterior
        if "latent_params" in batch:
            params = batch["latent_params"].to(device, torch.float32)
        else:
            params = self.encode_pixels(batch["pixels"])
        control_params = batch.get("control_params")
        unit_range = self.config.controlnet.control_range == "0-1"
        if control_params is None and "control_pixels" in batch:
            pixels = batch["control_pixels"]
            # the original ControlNet scripts encode the control image in [0, 1]
            control_params = self.encode_pixels((pixels + 1.0) / 2.0 if unit_range else pixels)
        latents = DiagonalGaussianDistribution(params).sample(generator=generator)
        latents = ((latents - self.vae_shift) * self.vae_scale).to(self.weight_dtype)
        control_latents = None
        if control_params is not None:
            control = DiagonalGaussianDistribution(control_params.to(device, torch.float32)).sample(generator=generator)
            # As SD3ControlNetPipeline: no VAE shift for ControlNets that zero the pooled projection;
            # none either for the original's [0, 1] control images.
            zero_pooled = self._controlnet_config().force_zeros_for_pooled_projection
            shift = 0.0 if (zero_pooled or unit_range) else self.vae_shift_value
            control_latents = ((control - shift) * self.vae_scale).to(self.weight_dtype)
        # 2. text embeddings (the ControlNet's own, from the control month's captions, when planned)
        embeds, pooled = self._text_embeddings(batch, "prompt_embeds", "pooled_prompt_embeds", control=False)
        if control_latents is not None and batch["items"][0].control_spatial_prompt is not None:
            control_embeds, control_pooled = self._text_embeddings(
                batch, "control_prompt_embeds", "control_pooled_prompt_embeds", control=True
            )
        else:
            control_embeds, control_pooled = embeds, pooled
        # 3. timesteps, noise, prediction, loss
        noised = noise_batch(latents, self.schedule, self.config.optim, generator)
        with accelerator.autocast():
            if control_latents is None:
                prediction = self.model(
                    hidden_states=noised.noisy_latents,
                    timestep=noised.timesteps,
                    encoder_hidden_states=embeds,
                    pooled_projections=pooled,
                    return_dict=False,
                )[0]
            else:
                controlnet_pooled = (
                    torch.zeros_like(control_pooled)
                    if self._controlnet_config().force_zeros_for_pooled_projection
                    else control_pooled
                )
                blocks = self.model(
                    hidden_states=noised.noisy_latents,
                    controlnet_cond=control_latents,
                    conditioning_scale=self.config.controlnet.conditioning_scale,
                    encoder_hidden_states=control_embeds,
                    pooled_projections=controlnet_pooled,
                    timestep=noised.timesteps,
                    return_dict=False,
                )[0]
                prediction = self.pipe.transformer(
                    hidden_states=noised.noisy_latents,
                    timestep=noised.timesteps,
                    encoder_hidden_states=embeds,
                    pooled_projections=pooled,
                    block_controlnet_hidden_states=[b.to(self.weight_dtype) for b in blocks],
                    return_dict=False,
                )[0]
        return flow_matching_loss(
            prediction, noised, self.config.optim.weighting_scheme, self.config.optim.prediction_target
        )

    def _text_embeddings(self, batch: dict[str, Any], embeds_key: str, pooled_key: str, control: bool) -> tuple:
        device = self.accelerator.device
        if embeds_key in batch:
            return batch[embeds_key].to(device, self.weight_dtype), batch[pooled_key].to(device, self.weight_dtype)
        items = batch["items"]
        if control:
            spatial, climate = [i.control_spatial_prompt for i in items], [i.control_climate_prompt for i in items]
        else:
            spatial, climate = [i.spatial_prompt for i in items], [i.climate_prompt for i in items]
        embeds, pooled = self.encode_texts(spatial, climate)
        return embeds.to(self.weight_dtype), pooled.to(self.weight_dtype)

    def _controlnet_config(self) -> Any:
        return self.accelerator.unwrap_model(self.model).config

    # ------------------------------------------------------------------ outputs

    def _unwrapped(self) -> Any:
        return self.accelerator.unwrap_model(self.model)

    def _save_hook(self, models: list, weights: list, output_dir: str) -> None:
        """accelerate save_state: write only the adapter / ControlNet, not the frozen base model."""
        if self.accelerator.is_main_process:
            for model in models:
                self._write_weights(self.accelerator.unwrap_model(model), Path(output_dir))
        # accelerate writes whatever stays in `weights`; the files above replace them.
        while weights:
            weights.pop()

    def _load_hook(self, models: list, input_dir: str) -> None:
        while models:
            model = self.accelerator.unwrap_model(models.pop())
            if self.config.mode == "lora":
                adapters.load_lora_into(model, Path(input_dir))
            else:
                adapters.load_training_state(model, Path(input_dir))

    def _write_weights(self, model: Any, directory: Path, final: bool = False) -> Path:
        """Checkpoints keep the exact training state; the final weights are what `core.models` loads."""
        mode = self.config.mode
        if mode == "lora":
            adapters.save_lora(model, directory)
            if self.config.lora.train_norm_out_proj_out:
                adapters.save_full_weights(model, directory, ("norm_out.", "proj_out."))
            return directory
        if not final:
            return adapters.save_training_state(model, directory)
        if mode == "full":
            return adapters.save_transformer(model, directory / adapters.TRANSFORMER_SUBDIR)
        written = adapters.save_controlnet(
            model, directory / adapters.CONTROLNET_SUBDIR, merge_lora=mode != "controlnet"
        )
        from core.models.original_formats import write_control_range

        write_control_range(written, self.config.controlnet.control_range)
        return written

    def _checkpoint(self, step: int) -> Path:
        directory = run_files.checkpoint_dir(self.output_dir, step)
        self.accelerator.save_state(str(directory))
        if self.accelerator.is_main_process:
            run_files.write_state_file(
                directory, {"step": step, "total_steps": self.total_steps, "mode": self.config.mode}
            )
            run_files.prune_checkpoints(self.output_dir, self.config.checkpoints.keep_last)
        self.accelerator.wait_for_everyone()
        return directory

    def _validate(self, step: int) -> list[Path]:
        from core.train.validation import render_validation

        if not self.accelerator.is_main_process:
            return []
        controlnet = self._unwrapped() if self.config.mode in CONTROL_MODES else None
        transformer = self.pipe.transformer if controlnet is not None else self._unwrapped()
        return render_validation(
            self.pipe, transformer, controlnet, self.validation, self.config, step, self.output_dir / "validation"
        )

    def _save_final(self) -> Path:
        mode = self.config.mode
        target = self.output_dir / ("lora" if mode == "lora" else "")
        if self.accelerator.is_main_process:
            written = self._write_weights(self._unwrapped(), target, final=True)
            atomic_write_json(
                self.output_dir / "train_summary.json",
                {
                    "mode": mode,
                    "base_model": self.config.base_model,
                    "steps": self.counter.step,
                    "weights_dir": str(written),
                    "trainable_parameter_count": sum(
                        p.numel() for p in self._unwrapped().parameters() if p.requires_grad
                    ),
                    "trainable_parameters": self.trainable_names,
                },
            )
        self.accelerator.wait_for_everyone()
        if mode == "lora":
            return target
        return target / (adapters.TRANSFORMER_SUBDIR if mode == "full" else adapters.CONTROLNET_SUBDIR)


class TrainingDivergedError(EcoMapperError):
    """The loss became NaN or infinite: the weights are not usable."""


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = " ".join(lines[:2])
    return text if len(text) < 200 else text[:197] + "..."


def _place(module: Any, device: Any, dtype: Any) -> None:
    """Move a module, casting only when its dtype differs (diffusers warns on needless casts)."""
    module.to(device)
    if next(module.parameters()).dtype != dtype:
        module.to(dtype=dtype)


def load_base_pipeline(base_model: str, settings: Settings) -> Any:
    """The SD3 pipeline to fine-tune: tiny-random is built in code (seed 0, the one `core.models` loads),
    anything else (Hub ids, local folders) comes through `core.models.load_pipeline`, in float32 on the CPU
    (the trainer places and casts it)."""
    from core.models.registry import resolve_model_id

    if resolve_model_id(base_model).is_tiny:
        from core.models.tiny import build_tiny_pipeline

        return build_tiny_pipeline(seed=0)
    from core.models import ModelSpec, load_pipeline

    loaded = load_pipeline(ModelSpec(model_id=base_model, device="cpu", dtype="float32"), settings)
    return loaded.pipe
