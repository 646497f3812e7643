"""Editing a real image with the loaded flow model: FlowEdit (mode "edit") and ODE inversion + regeneration ("invert").

Both start from the real scene's VAE latents and drive the SD3 transformer and scheduler of the loaded
pipeline directly, so any LoRA or fine-tuned transformer the pipeline carries edits too. The source
prompt is the caption of the observed climate, the target prompt the caption of the scenario.

- "edit": FlowEdit (Kulikov et al. 2024, "FlowEdit: Inversion-Free Text-Based Editing Using Pre-Trained
  Flow Models"). No inversion: at each step the source is noised afresh, z_src = (1-t) x_src + t eps,
  z_tar = z_edit + z_src - x_src, and z_edit moves by (t_next - t) (v(z_tar, target) - v(z_src, source)).
- "invert": the idea of ClimSat (Leonhardt et al. 2025): invert the source deterministically along the
  probability-flow ODE under the source caption, then sample back under the target caption. Our own
  code (Euler steps on the same schedule both ways).

Torch is imported inside the functions: importing this module stays light (the request reads `EditOptions`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.errors import BadRequestError
from core.generation.progress import ProgressCallback, report_or_cancel
from core.generation.prompts import CFG_THRESHOLD, NEGATIVE_PROMPTS

EDIT_MODES = ("edit", "invert")
# FlowEdit's settings for SD3 (the reference code's SD3 config, 50 steps): edit the last 33 of 50
# steps (n_max), no plain-sampling tail (n_min 0), one noise draw per step (n_avg 1), guidance 3.5 on
# the source and 13.5 on the target. SD3.5 starts from the same values (not tuned by the paper).
FLOWEDIT_N_MAX_SHARE = 33 / 50
FLOWEDIT_SOURCE_GUIDANCE = 3.5
FLOWEDIT_TARGET_GUIDANCE = 13.5
# Inversion runs without classifier-free guidance: with it the inverse ODE drifts away from the image.
INVERT_SOURCE_GUIDANCE = 1.0
INVERT_TARGET_GUIDANCE = 1.0
MAX_N_AVG = 16



@dataclass(frozen=True)
class EditOptions:
    """How to edit ("edit", FlowEdit's names) or invert ("invert"); None = the documented default.

    Args:
        n_max: how many of the last steps are edited (edit: 66 % of the steps, FlowEdit's 33 of 50; invert:
            how many steps are inverted and sampled again, all of them by default). More = a larger change.
        n_min: edit only: the last n_min steps sample the target plainly (0: FlowEdit all the way).
        n_avg: edit only: noise draws averaged per step (1).
        source_guidance: guidance of the source branch (edit 3.5; invert 1 = no guidance while inverting).
        target_guidance: guidance of the target branch (edit 13.5; invert 1).
    """

    n_max: int | None = None
    n_min: int = 0
    n_avg: int = 1
    source_guidance: float | None = None
    target_guidance: float | None = None

    def __post_init__(self) -> None:
        for name, low in (("n_max", 1), ("n_min", 0), ("n_avg", 1)):
            value = getattr(self, name)
            if value is None and name == "n_max":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 500:
                raise BadRequestError(
                    f"The edit option {name}={value!r} is not a whole number {low}..500.",
                    f"Give --{name.replace('_', '-')} as a whole number of steps.",
                )
        if self.n_avg > MAX_N_AVG:
            raise BadRequestError(f"n_avg={self.n_avg} is over {MAX_N_AVG}.", "Average 1 to 16 noise draws per step.")
        for name in ("source_guidance", "target_guidance"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 30.0
            ):
                raise BadRequestError(
                    f"The {name.replace('_', ' ')} {value!r} is not 0..30.",
                    "Use e.g. 3.5 (source) and 13.5 (target), FlowEdit's SD3 values.",
                )

    def check(self, mode: str, steps: int | None) -> None:
        """The options against the request's mode and steps (n_min < n_max <= steps; invert has no n_min / n_avg)."""
        if mode == "invert" and (self.n_min != 0 or self.n_avg != 1):
            raise BadRequestError(
                "n_min and n_avg are FlowEdit's (mode edit), not inversion's.", "Leave them out with --mode invert."
            )
        if steps is None:
            return
        resolved = self.resolved(mode, steps)
        if resolved.n_max > steps or resolved.n_min >= resolved.n_max:
            raise BadRequestError(
                f"The edit steps n_min={resolved.n_min}, n_max={resolved.n_max} do not fit {steps} steps.",
                f"Use 0 <= n_min < n_max <= {steps} (the number of steps).",
            )

    def resolved(self, mode: str, steps: int) -> EditOptions:
        """The options with the defaults of `mode` filled in for `steps` steps."""
        edit = mode == "edit"
        return EditOptions(
            n_max=self.n_max
            if self.n_max is not None
            else (max(1, round(steps * FLOWEDIT_N_MAX_SHARE)) if edit else steps),
            n_min=self.n_min,
            n_avg=self.n_avg,
            source_guidance=self.source_guidance
            if self.source_guidance is not None
            else (FLOWEDIT_SOURCE_GUIDANCE if edit else INVERT_SOURCE_GUIDANCE),
            target_guidance=self.target_guidance
            if self.target_guidance is not None
            else (FLOWEDIT_TARGET_GUIDANCE if edit else INVERT_TARGET_GUIDANCE),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EditOptions:
        return cls(**(data or {}))


@dataclass
class _Branch:
    """One prompt's embeddings (conditional and, with guidance, the empty prompt's) and its guidance."""

    embeds: Any
    pooled: Any
    negative: tuple[Any, Any] | None
    guidance: float


def _branch(engine: Any, prompts: Any, guidance: float) -> _Branch:
    embeds, pooled = engine.embeddings(prompts)
    negative = engine.embeddings(NEGATIVE_PROMPTS) if guidance > CFG_THRESHOLD else None
    return _Branch(embeds, pooled, negative, guidance)


def _velocities(transformer: Any, sigma: float, pairs: Sequence[tuple[Any, _Branch]]) -> list[Any]:
    """The guided velocity of each (latents, branch) pair at noise level `sigma`, in one transformer call."""
    import torch

    latents, embeds, pooled, widths = [], [], [], []
    for z, branch in pairs:
        rows = ([branch.negative] if branch.negative is not None else []) + [(branch.embeds, branch.pooled)]
        for emb, pool in rows:
            latents.append(z)
            embeds.append(emb)
            pooled.append(pool)
        widths.append(len(rows))
    dtype = transformer.dtype
    hidden = torch.cat(latents).to(dtype)
    timestep = torch.full((hidden.shape[0],), sigma * 1000.0, device=hidden.device, dtype=dtype)
    out = transformer(
        hidden_states=hidden,
        timestep=timestep,
        encoder_hidden_states=torch.cat(embeds).to(dtype),
        pooled_projections=torch.cat(pooled).to(dtype),
        return_dict=False,
    )[0].float()
    velocities, row = [], 0
    for (_, branch), width in zip(pairs, widths, strict=True):
        if width == 2:
            uncond, cond = out[row : row + 1], out[row + 1 : row + 2]
            velocities.append(uncond + branch.guidance * (cond - uncond))
        else:
            velocities.append(out[row : row + 1])
        row += width
    return velocities


def _sigmas(pipe: Any, steps: int, size_px: int, device: Any) -> list[float]:
    """The sampling schedule's noise levels, steps + 1 of them from ~1 down to 0, as the SD3 pipeline sets them."""
    from diffusers.pipelines.stable_diffusion_3.pipeline_stable_diffusion_3 import calculate_shift, retrieve_timesteps

    scheduler = pipe.scheduler
    kwargs = {}
    if scheduler.config.get("use_dynamic_shifting", None):
        side = size_px // pipe.vae_scale_factor // pipe.transformer.config.patch_size
        kwargs["mu"] = calculate_shift(
            side * side,
            scheduler.config.get("base_image_seq_len", 256),
            scheduler.config.get("max_image_seq_len", 4096),
            scheduler.config.get("base_shift", 0.5),
            scheduler.config.get("max_shift", 1.16),
        )
    retrieve_timesteps(scheduler, steps, device, **kwargs)
    return [float(s) for s in scheduler.sigmas]


def encode_source(pipe: Any, image: Any) -> Any:
    """The uint8 image's VAE latents (posterior mean), shifted and scaled as the transformer sees them, float32."""
    import numpy as np
    import torch

    vae = pipe.vae
    pixels = pipe.image_processor.preprocess(image[None].astype(np.float32) / 255.0).to(vae.device, vae.dtype)
    latents = vae.encode(pixels).latent_dist.mode()
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    return ((latents - shift) * vae.config.scaling_factor).to(torch.float32)


def decode_latents(pipe: Any, latents: Any) -> Any:
    """uint8 HxWx3 of the latents (the inverse of `encode_source`)."""
    import numpy as np

    vae = pipe.vae
    shift = getattr(vae.config, "shift_factor", None) or 0.0
    decoded = vae.decode((latents / vae.config.scaling_factor + shift).to(vae.dtype)).sample
    out = pipe.image_processor.postprocess(decoded, output_type="np")[0]
    return (np.clip(out, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def flow_edit(
    transformer: Any,
    x_src: Any,
    sigmas: list[float],
    source: _Branch,
    target: _Branch,
    options: EditOptions,
    generator: Any,
    on_step: Callable[[int], None],
) -> Any:
    """FlowEdit's loop (Kulikov et al. 2024, Alg. 1): the edited latents of `x_src`; options resolved."""
    import torch

    steps = len(sigmas) - 1
    z_edit, x_tar = x_src.clone(), None

    def noised() -> Any:  # a fresh draw of eps for each use, from the job's seeded generator
        return torch.randn(x_src.shape, generator=generator, device=generator.device).to(x_src.device)

    for i in range(steps):
        t, t_next = sigmas[i], sigmas[i + 1]
        if steps - i > options.n_max:
            on_step(i)
            continue
        if steps - i > options.n_min:
            delta = torch.zeros_like(x_src)
            for _ in range(options.n_avg):
                z_src = (1.0 - t) * x_src + t * noised()
                z_tar = z_src + (z_edit - x_src)  # = z_edit + z_src - x_src, exact when z_edit == x_src
                v_src, v_tar = _velocities(transformer, t, [(z_src, source), (z_tar, target)])
                delta += (v_tar - v_src) / options.n_avg
            z_edit = z_edit + (t_next - t) * delta
        else:  # the last n_min steps: plain sampling of the target from where the edit got to
            if x_tar is None:
                x_tar = (1.0 - t) * x_src + t * noised() + (z_edit - x_src)
            (v_tar,) = _velocities(transformer, t, [(x_tar, target)])
            x_tar = x_tar + (t_next - t) * v_tar
        on_step(i)
    return z_edit if x_tar is None else x_tar


def invert_and_sample(
    transformer: Any,
    x_src: Any,
    sigmas: list[float],
    source: _Branch,
    target: _Branch,
    options: EditOptions,
    on_step: Callable[[int], None],
) -> Any:
    """Euler inversion of `x_src` up the last n_max steps under the source, then Euler sampling down under the target.

    Inversion steps use the velocity at the lower noise level, sampling at the higher one: with equal
    captions and guidance the round trip returns the source up to the Euler error of the schedule.
    """
    steps = len(sigmas) - 1
    first = steps - options.n_max  # the step the sampling starts from
    z = x_src.clone()
    for i in reversed(range(first, steps)):  # from sigma 0 upwards
        (v,) = _velocities(transformer, sigmas[i + 1], [(z, source)])
        z = z + (sigmas[i] - sigmas[i + 1]) * v
        on_step(steps - 1 - i)
    for i in range(first, steps):
        (v,) = _velocities(transformer, sigmas[i], [(z, target)])
        z = z + (sigmas[i + 1] - sigmas[i]) * v
        on_step(options.n_max + i - first)
    return z


def run_edit_frames(
    engine: Any,
    jobs: Sequence[Any],
    *,
    mode: str,
    size_px: int,
    num_inference_steps: int,
    options: EditOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    progress_offset: int = 0,
    progress_total: int | None = None,
) -> tuple[list[Any], dict[str, float]]:
    """Edit ("edit") or invert and regenerate ("invert") each job's `control_image` from `source_prompts` to `prompts`.

    A job whose two prompts are the same asks for no change: its target guidance is the source's, so the
    velocity difference is 0 and the edit returns the source through the VAE (with FlowEdit's unequal
    guidances the extra target guidance alone would sharpen the image: not a climate change).

    Returns:
        (images, timings) as `Engine.run_frames` returns them.
    """
    import torch

    if mode not in EDIT_MODES:
        raise BadRequestError(f"Unknown edit mode {mode!r}.", f"Use one of {', '.join(EDIT_MODES)}.")
    pipe = engine.loaded.pipe
    resolved = (options or EditOptions()).resolved(mode, num_inference_steps)
    resolved.check(mode, num_inference_steps)
    per_job = num_inference_steps if mode == "edit" else 2 * resolved.n_max
    total = progress_total if progress_total is not None else len(jobs) * per_job
    timings = {"encode_s": 0.0, "denoise_s": 0.0}
    images = []
    for index, job in enumerate(jobs):
        if job.control_image is None:
            raise BadRequestError(f"Mode {mode} needs a source image.", "Give the real image of the month.")
        started = time.perf_counter()
        source_prompts = job.source_prompts or job.prompts
        same = source_prompts == job.prompts
        with engine._run_lock, torch.inference_mode():
            source = _branch(engine, source_prompts, resolved.source_guidance)
            target = _branch(engine, job.prompts, resolved.source_guidance if same else resolved.target_guidance)
            x_src = encode_source(pipe, job.control_image)
            timings["encode_s"] += time.perf_counter() - started
            started = time.perf_counter()
            sigmas = _sigmas(pipe, num_inference_steps, size_px, x_src.device)
            on_step = _step_reporter(
                progress,
                cancel,
                progress_offset + index * per_job,
                total,
                per_job,
                f"{mode} frame {index + 1} of {len(jobs)}",
            )
            if mode == "edit":
                noise_device = "cpu" if str(x_src.device) == "mps" else x_src.device
                generator = torch.Generator(device=noise_device).manual_seed(job.seed)
                latents = flow_edit(pipe.transformer, x_src, sigmas, source, target, resolved, generator, on_step)
            else:
                latents = invert_and_sample(pipe.transformer, x_src, sigmas, source, target, resolved, on_step)
            images.append(decode_latents(pipe, latents))
        timings["denoise_s"] += time.perf_counter() - started
    return images, timings


def _step_reporter(
    progress: ProgressCallback | None, cancel: Any, done_before: int, total: int, width: int, label: str
) -> Callable[[int], None]:
    def on_step(step: int) -> None:
        report_or_cancel(
            progress, cancel, done_before + step + 1, total, f"{label}: step {step + 1}/{width}",
            f"Generation cancelled at step {step + 1} of {width} ({label}).",
        )  # fmt: skip

    return on_step
