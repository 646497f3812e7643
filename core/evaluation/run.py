"""Batch evaluation over an EcoMapper dataset: generate, score, and write the paper's tables and plots.

For each sample the model generates an image with a seed fixed by the sample (text-to-image, or
ControlNet with the previous real month as control), and every available metric compares it with
the real image. Results are appended per sample, so a rerun skips finished samples; with
`accelerate launch --num_processes N` the pending samples are split between processes and the
main process writes the tables from everyone's results.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.config import Settings
from core.dataset.reader import (
    MAX_CONTROL_GAP_MONTHS,
    Dataset,
    Sample,
    default_place_resolver,
    read_dataset,
    read_subset,
)
from core.errors import BadRequestError
from core.evaluation.results import ResultStore, result_key, settings_key
from core.evaluation.selection import (
    SampleSelector,
    Selected,
    describe_selection,
    in_dataset_order,
    stratified_order,
)
from core.evaluation.tables import DEFAULT_EXTREME_PERCENTILE, build_tables, extreme_thresholds, to_markdown
from core.generation.request import GenerationRequest
from core.io.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from core.metrics.availability import METRIC_NAMES
from core.metrics.suite import MetricSuite, match_size

log = logging.getLogger(__name__)

TABLE_TITLES = {
    "models": "Quantitative comparison per model",
    "land_cover": "Per land cover",
    "year": "Per year",
    "extremes": "Extreme climate conditions",
}
ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class EvaluationConfig:
    """What to evaluate and how.

    Args:
        model_id: model to generate with (`tiny-random`, `sd3-medium`, a local diffusers folder, a Hub id).
        data_dir: EcoMapper dataset folder or CSV.
        out_dir: where results, tables and plots go (reused to resume).
        controlnet_previous: generate with ControlNet conditioned on the previous real month
            (1..6 months earlier); samples without one are left out and counted.
        limit: evaluate at most this many samples: the first N of a seeded order stratified over
            places and months (`core.evaluation.selection.stratified_order`), or the first N rows of `subset`.
        subset: an original evaluation list (CSV with location_id, img_path, ...; e.g. the paper's
            `seed_98_final_test_single_image.csv`) whose rows are evaluated in order, images under `data_dir`.
        seed: base seed; each sample's seed derives from it and the sample id.
        num_inference_steps: sampler steps (paper: 50).
        guidance_scale: classifier-free guidance (paper: 7.5).
        size_px: generated image size; generated images are resized to the real image's size.
        metrics: metrics to compute; None = every metric whose weights are available.
        inception_weights / alexnet_weights / lpips_heads / clip_model: explicit weight locations.
        download_weights: allow downloading missing metric weights.
        lora / controlnet: extra weights for the model (paths or Hub ids).
        img2img_strength: generate with image-to-image from the previous real month at this strength
            (0..1) instead of text-to-image; exclusive with `controlnet_previous`.
        save_images: also write each generated image as PNG.
        extreme_percentile: p for the extreme-climate rows (beyond the p-th / (100-p)-th percentiles).
        control_choice: ControlNet control month: "random" (as the original: one of the real months
            1..6 months earlier, drawn with a seed fixed by the sample) or "latest".
        clip_scale: "cosine" (the paper's 0.32-0.40) or "x100" (torchmetrics').
        fid_preprocessing: Inception input, "pytorch-fid" or "torch-fidelity" (the paper's).
        jpeg_quality: save each generated image as JPEG at this quality and score what is read back
            (the original validation scripts wrote .jpg, PIL's default quality 75); None keeps PNG pixels.
        fill_missing_climate: samples without stored climate get NASA POWER's values for their
            month (the original's CSVs had them); otherwise their climate prompt is the spatial one.
        transformer / control_range / controlnet_pooled / dtype: as `core.models.ModelSpec` (the paper:
            float16, and a zero pooled projection for the ControlNet as diffusers 0.32.1 gave it).
        caption_preset: the prompts generated with, and CLIP scored against (the original scored the prompt it
            generated with) (`core.generation.prompts.CAPTION_PRESETS`): "fixed_caption"
            (the paper's evaluation), "fixed_caption_words" for word-mode models, "fixed_caption_diffsat", ...
        batch_size: samples generated and scored together; None chooses from the free memory of
            the generation device (`core.models.memory.auto_batch_size`).
    """

    model_id: str
    data_dir: Path
    out_dir: Path
    controlnet_previous: bool = False
    limit: int | None = None
    subset: Path | None = None
    seed: int = 0
    num_inference_steps: int = 50
    guidance_scale: float = 7.5
    size_px: int = 512
    metrics: tuple[str, ...] | None = None
    inception_weights: Path | None = None
    alexnet_weights: Path | None = None
    lpips_heads: Path | None = None
    clip_model: Path | None = None
    download_weights: bool = True
    lora: str | None = None
    controlnet: str | None = None
    save_images: bool = False
    extreme_percentile: float = DEFAULT_EXTREME_PERCENTILE
    img2img_strength: float | None = None
    control_choice: str = "random"
    clip_scale: str = "cosine"
    fid_preprocessing: str = "pytorch-fid"
    jpeg_quality: int | None = None
    fill_missing_climate: bool = False
    transformer: str | None = None
    control_range: str = "auto"
    caption_preset: str = "fixed_caption"
    batch_size: int | None = None
    dtype: str = "auto"
    controlnet_pooled: str = "real"
    paper_conventions: bool = False

    @classmethod
    def paper(cls, **kwargs: Any) -> EvaluationConfig:
        """Every convention of the paper's evaluation at once (the table in docs/evaluation.md): torch-fidelity
        FID input, JPEG q75, cosine CLIP, random 1-6 month control, POWER climate for samples without,
        float16, a zero pooled projection for the ControlNet, and the caption preset of the model's run."""
        defaults = dict(
            control_choice="random",
            clip_scale="cosine",
            fid_preprocessing="torch-fidelity",
            jpeg_quality=75,
            fill_missing_climate=True,
            dtype="float16",
            controlnet_pooled="zero",
            caption_preset=paper_caption_preset(
                str(kwargs.get("model_id", "")), kwargs.get("controlnet"), bool(kwargs.get("controlnet_previous"))
            ),
            paper_conventions=True,
        )
        given = {key: value for key, value in kwargs.items() if value is not None}
        return cls(**{**defaults, **given})

    def __post_init__(self) -> None:
        if self.img2img_strength is not None:
            if self.controlnet_previous:
                raise BadRequestError(
                    "--img2img-previous and --controlnet-previous were both given.", "Evaluate one mode per run."
                )
            from core import limits

            limits.IMG2IMG_STRENGTH.check("--img2img-previous", self.img2img_strength)
        if not str(self.model_id).strip():
            raise BadRequestError("No model given.", "Pass --model (e.g. tiny-random or sd3-medium).")
        from core import limits

        if self.limit is not None:
            limits.EVALUATE_LIMIT.check("--limit", self.limit)
        limits.INFERENCE_STEPS.check("--steps", self.num_inference_steps)
        limits.GUIDANCE_SCALE.check("--guidance", self.guidance_scale)
        limits.IMAGE_SIZE_PX.check("--size", self.size_px)
        limits.GENERATION_SEED.check("--seed", self.seed)
        limits.EXTREME_PERCENTILE.check("--extreme-percentile", self.extreme_percentile)
        if self.batch_size is not None:
            limits.EVALUATE_BATCH.check("--batch-size", self.batch_size)
        from core.config import check_dtype
        from core.generation.prompts import caption_preset

        caption_preset(self.caption_preset)  # BadRequestError naming the known presets
        check_dtype(self.dtype)
        if self.controlnet_pooled not in ("real", "zero"):
            raise BadRequestError(
                f"Unknown ControlNet pooled projection {self.controlnet_pooled!r}.", 'Use "real" or "zero".'
            )
        if self.control_choice not in ("random", "latest"):
            raise BadRequestError(f"Unknown control choice {self.control_choice!r}.", 'Use "random" or "latest".')
        if self.clip_scale not in ("cosine", "x100"):
            raise BadRequestError(f"Unknown CLIP scale {self.clip_scale!r}.", 'Use "cosine" (the paper) or "x100".')
        if self.fid_preprocessing not in ("pytorch-fid", "torch-fidelity"):
            raise BadRequestError(
                f"Unknown FID preprocessing {self.fid_preprocessing!r}.", 'Use "pytorch-fid" or "torch-fidelity".'
            )
        if self.jpeg_quality is not None:
            limits.JPEG_QUALITY.check("--jpeg-quality", self.jpeg_quality)
        if self.metrics is not None:
            unknown = [m for m in self.metrics if m not in METRIC_NAMES]
            if unknown or not self.metrics:
                raise BadRequestError(f"Unknown metrics {unknown}.", f"Choose from {', '.join(METRIC_NAMES)}.")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.subset is not None:
            object.__setattr__(self, "subset", Path(self.subset))
        object.__setattr__(self, "out_dir", Path(self.out_dir))

    @property
    def mode(self) -> str:
        if self.img2img_strength is not None:
            return "img2img"
        return "controlnet" if self.controlnet_previous else "text"

    @property
    def uses_previous(self) -> bool:
        """Each sample is generated from (or conditioned on) the previous real month of its place."""
        return self.controlnet_previous or self.img2img_strength is not None


def paper_caption_preset(model_id: str, controlnet: str | None, controlnet_previous: bool) -> str:
    """The caption preset the original evaluated this kind of model with.

    validate.py / validate_controlnet.py: `fixed_caption.json` (every part kept); validate_controlnet_lora.py
    (the CN-LoRA run, a `controlnet.safetensors`): `skip_date_location.json`, the dropout it trained with;
    DiffusionSat: `fixed_caption_diffsat.json`.
    """
    from core.generation.prompts import PAPER_EVALUATION_PRESET, PAPER_TRAINING_PRESET

    if "diffusionsat" in model_id:
        return "fixed_caption_diffsat"
    if controlnet_previous and controlnet:
        from core.models.original_formats import find_original_controlnet_lora

        ref = Path(str(controlnet)).expanduser()
        if ref.exists() and find_original_controlnet_lora(ref) is not None:
            return PAPER_TRAINING_PRESET
    return PAPER_EVALUATION_PRESET


@dataclass(frozen=True)
class EvaluationReport:
    """What an evaluation run did and wrote."""

    out_dir: Path
    markdown_path: Path
    table_paths: dict[str, Path]
    plot_paths: dict[str, Path]
    n_selected: int
    generated: int
    reused: int
    metrics_used: tuple[str, ...]
    metrics_unavailable: dict[str, str]
    skipped_files: dict[str, int]
    skipped_no_control: int
    selection: str = ""
    num_processes: int = 1
    elapsed_s: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)


class SampleGenerator(Protocol):
    """Makes one image for a sample (and its control sample in ControlNet mode).

    A generator may also define `generate_batch(items) -> list[np.ndarray]` over (sample, control,
    seed) triples, `batch_size() -> int`, and `device` (where its model runs: the metric networks
    then run there too).
    """

    label: str

    def generate(self, sample: Sample, control: Sample | None, seed: int) -> np.ndarray: ...


class PipelineGenerator:
    """Generates with the engine of `core.models` from a model loaded once per process, a batch at a time."""

    def __init__(self, config: EvaluationConfig, settings: Settings) -> None:
        from core.models import ModelSpec, load_pipeline
        from core.models.engine import Engine

        spec = ModelSpec(
            config.model_id,
            lora=config.lora,
            controlnet=config.controlnet,
            transformer=config.transformer,
            control_range=config.control_range,
            controlnet_pooled=config.controlnet_pooled,
            dtype=config.dtype,
        )
        loaded = load_pipeline(spec, settings)
        if config.controlnet_previous and not loaded.has_controlnet:
            raise BadRequestError(
                f"--controlnet-previous needs a ControlNet, and {config.model_id} was loaded without one.",
                "Pass --controlnet PATH_OR_HUB_ID (an SD3 ControlNet, e.g. one trained with `python -m core train`).",
            )
        self.engine = Engine(loaded)
        self.device = loaded.device
        self.settings = settings
        self.config = config
        self.label = config.model_id
        for warning in getattr(loaded, "warnings", ()) or ():
            log.warning("%s", warning)

    def batch_size(self) -> int:
        from core.models.memory import auto_batch_size

        return auto_batch_size(self.engine.loaded, self.config.size_px, mode=self.config.mode)

    def generate(self, sample: Sample, control: Sample | None, seed: int) -> np.ndarray:
        return self.generate_batch([(sample, control, seed)])[0]

    def _prompts(self, inputs, sample: Sample):
        """The prompts of `inputs`, or those drawn under the caption preset (seeded by the sample)."""
        if self.config.caption_preset == "fixed_caption":
            from core.generation.prompts import build_prompts

            return build_prompts(inputs)
        from core.generation.prompts import caption_prompts

        rng = random.Random(sample_seed(self.config.seed, "caption:" + sample.sample_id))
        return caption_prompts(inputs, self.config.caption_preset, rng)

    def spatial_prompt(self, sample: Sample) -> str:
        """The spatial prompt this sample was generated with: what CLIP scores against, as in the original."""
        return self._prompts(sample.prompt_inputs, sample).spatial

    def generate_batch(self, items: list[tuple[Sample, Sample | None, int]]) -> list[np.ndarray]:
        """One image per (sample, control, seed) in one engine call (ControlNet: a control image each)."""
        from core.models.engine import FrameJob

        requests = [
            sample_request(sample, control, seed, self.config, self.settings) for sample, control, seed in items
        ]
        first = requests[0]
        images, _ = self.engine.run_frames(
            [
                FrameJob(self._prompts(r.prompt_inputs(), sample), r.seed, r.control_image)
                for r, (sample, _, _) in zip(requests, items, strict=True)
            ],
            mode=first.mode,
            size_px=first.size_px,
            num_inference_steps=first.num_inference_steps,
            guidance_scale=first.guidance_scale,
            controlnet_conditioning_scale=first.controlnet_conditioning_scale,
            batch_size=len(requests),
        )
        return images


def _use_cpu(settings: Settings) -> bool:
    """Whether processes talk over gloo on the CPU (no CUDA, or the CPU asked for)."""
    import torch

    return settings.device == "cpu" or not torch.cuda.is_available()


def _settings_for_process(settings: Settings, state) -> Settings:
    """One GPU per process when several processes share a machine with GPUs."""
    if state.num_processes > 1 and not _use_cpu(settings) and settings.device in ("auto", "cuda"):
        return settings.with_(device=f"cuda:{state.local_process_index}")
    return settings


def sample_seed(base_seed: int, sample_id: str) -> int:
    """A seed fixed by the sample, independent of order and of how samples are split between processes."""
    digest = hashlib.sha256(f"{base_seed}:{sample_id}".encode()).hexdigest()
    return int(digest[:8], 16) % (2**31 - 1)


def sample_request(sample: Sample, control: Sample | None, seed: int, config: EvaluationConfig, settings: Settings):
    """The `GenerationRequest` that regenerates a dataset sample (its place, month, land cover, cloud and climate).

    A sample stored without climate gets NASA POWER's values for its month when
    `config.fill_missing_climate` (the original's CSVs had them); otherwise its climate prompt is the spatial one.
    """
    meta = sample.metadata
    climate = meta.climate
    if climate is None and config.fill_missing_climate:
        from core.sources.climate import fetch_month_climate

        climate = fetch_month_climate(meta.point, meta.month, settings)
    return GenerationRequest.from_record(
        meta,
        observed_climate=climate,
        seed=seed,
        num_inference_steps=config.num_inference_steps,
        guidance_scale=config.guidance_scale,
        size_px=config.size_px,
        mode=config.mode if control is not None else "text",
        strength=config.img2img_strength if config.img2img_strength is not None else 0.6,
        control_image=_resized(control.image, config.size_px) if control is not None else None,
        control_month=control.month if control is not None else None,
    ).with_place()


def _control_chooser(config: EvaluationConfig):
    """(sample, candidates nearest first) -> the control, as `config.control_choice` says."""

    def choose(sample: Sample, candidates: list[Sample]) -> Sample:
        if config.control_choice == "latest":
            return candidates[0]
        return random.Random(sample_seed(config.seed, "control:" + sample.sample_id)).choice(candidates)

    return choose


def control_sample(dataset: Dataset, sample: Sample, config: EvaluationConfig) -> Sample | None:
    """The ControlNet control: a real month of the same place 1..6 months earlier.

    "random" draws among all of them with a seed fixed by the sample (the original's
    `random.choice` over its 1..6-month candidates); "latest" takes the nearest.
    """
    candidates = [
        found
        for gap in range(1, MAX_CONTROL_GAP_MONTHS + 1)
        if (found := dataset.get(f"{sample.location_id}@{sample.metadata.month - gap}")) is not None
    ]
    return _control_chooser(config)(sample, candidates) if candidates else None


def _selector(
    dataset: Dataset, config: EvaluationConfig, key_of, finished=frozenset(), settings: Settings | None = None
) -> SampleSelector:
    # a subset list is evaluated in its row order; all samples need no spreading; --limit N does
    whole = config.subset is not None or config.limit is None
    return SampleSelector(
        dataset,
        key_of=key_of,
        finished=finished,
        limit=config.limit,
        with_control=config.uses_previous,
        choose_control=_control_chooser(config),
        order=in_dataset_order if whole else stratified_order,
        seed=config.seed,
        # the app's naming: country polygon, and the admin-1 polygon when the settings name boundaries
        place_resolver_factory=lambda: default_place_resolver(settings),
    )


def select_samples(dataset: Dataset, config: EvaluationConfig) -> tuple[list[tuple[Sample, Sample | None]], int]:
    """(sample, control) pairs to evaluate, round-robin over locations, and how many lacked a control.

    Each sample reached is checked (decoded) on the way; see `core.evaluation.selection`.
    """
    selector = _selector(dataset, config, key_of=lambda s: s.sample_id)
    pairs = [(item.sample, item.control) for item in selector]
    return pairs, selector.no_control


def _metric_suite(config: EvaluationConfig, settings: Settings) -> MetricSuite:
    """The shared suite (core.metrics.suite) with the evaluation's weight locations; metrics named
    explicitly must be available, the default set takes what is there."""
    return MetricSuite(
        settings,
        config.metrics,
        download=config.download_weights,
        inception_weights=config.inception_weights,
        alexnet_weights=config.alexnet_weights,
        lpips_heads=config.lpips_heads,
        clip_model=config.clip_model,
        clip_scale=config.clip_scale,
        fid_preprocessing=config.fid_preprocessing,
    )


def _resized(image: np.ndarray, size_px: int) -> np.ndarray:
    """The control image at the generation size (the footprint stays the same 5.12 km square)."""
    if image.shape[:2] == (size_px, size_px):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size_px, size_px), Image.Resampling.LANCZOS), dtype=np.uint8)


def as_scored(fake: np.ndarray, real: np.ndarray, jpeg_quality: int | None) -> np.ndarray:
    """A generated image as the metrics see it: JPEG round trip at the generated size first (the original saved
    .jpg files, at 1024 px for SD3-FT-HR), then resized (bicubic) to the real image, as its metric scripts read them."""
    fake = np.asarray(fake, dtype=np.uint8)
    if jpeg_quality is not None:
        from core.metrics.conventions import jpeg_round_trip

        fake = jpeg_round_trip(fake, jpeg_quality)
    return match_size(fake, real)


def _evaluate_batch(
    batch: list[Selected],
    config: EvaluationConfig,
    generator: SampleGenerator,
    suite: MetricSuite,
    store: ResultStore,
) -> list[dict[str, Any]]:
    """Generate the batch's images together, score them together, write features and images; one record each."""
    seeds = [sample_seed(config.seed, item.sample.sample_id) for item in batch]
    started = time.perf_counter()
    triples = [(item.sample, item.control, seed) for item, seed in zip(batch, seeds, strict=True)]
    if hasattr(generator, "generate_batch"):
        fakes = generator.generate_batch(triples)
    else:
        fakes = [generator.generate(*triple) for triple in triples]
    generation_s = (time.perf_counter() - started) / len(batch)
    reals = [item.real if item.real is not None else item.sample.image for item in batch]
    fakes = [as_scored(fake, real, config.jpeg_quality) for fake, real in zip(fakes, reals, strict=True)]
    # CLIP against the prompt generated with (a caption preset's dropped one too), as the original scored
    used = getattr(generator, "spatial_prompt", None)
    prompts = [used(item.sample) if used else item.sample.prompts.spatial for item in batch]
    scores = suite.score_batch(reals, fakes, prompts)
    records = []
    for item, seed, fake, prompt, (values, features) in zip(batch, seeds, fakes, prompts, scores, strict=True):
        if features is not None:
            store.write_features(item.key, *features)
        if config.save_images:
            import io

            from PIL import Image

            png = io.BytesIO()
            Image.fromarray(fake).save(png, format="PNG")
            # encoded in memory first: a failed encode leaves no stray temporary file in images/
            atomic_write_bytes(store.image_path(item.key), png.getvalue())
        records.append(
            {
                "key": item.key,
                "model": generator.label,
                "mode": config.mode,
                **item.sample.metadata.as_dict(),
                "sample_id": item.sample.sample_id,
                "seed": seed,
                "control_month": str(item.control.month) if item.control is not None else None,
                "prompt": prompt,
                "num_inference_steps": config.num_inference_steps,
                "guidance_scale": config.guidance_scale,
                "generation_s": round(generation_s, 4),  # the batch's time shared equally
                "has_features": features is not None,
                "finished_at": round(time.time(), 3),  # for throughput measurements
                **values,
            }
        )
    return records


@dataclass
class _EvaluationRun:
    """What one process of an evaluation works on: the dataset, the metrics, the results and the selection."""

    dataset: Dataset
    suite: MetricSuite
    store: ResultStore
    label: str
    run_settings: str  # every setting that changes the images (see `_run_settings_key`)
    selector: SampleSelector


def evaluate(
    config: EvaluationConfig,
    settings: Settings,
    generator: SampleGenerator | None = None,
    progress: ProgressFn | None = None,
) -> EvaluationReport | None:
    """Evaluate a model on a dataset and write the tables and plots.

    Run it plainly for one process, or under `accelerate launch --num_processes N` to split the
    samples between N processes (each loads the model once); only the main process writes tables.
    Steps: 1. check the output folder and the model id (before anything is downloaded); 2. read the
    dataset and choose the samples; 3. generate and score this process's share; 4. gather the
    processes; 5. write the tables, plots and summary (main process).

    Args:
        config: what to evaluate.
        settings: paths, device and offline mode.
        generator: the image source; default: `PipelineGenerator` for `config.model_id`.
        progress: callback (done, total, message) on the main process.

    Returns:
        The report on the main process; None on the other processes.

    Raises:
        BadRequestError: bad dataset path or options.
        ModelUnavailableError: the model, or a metric asked for explicitly, cannot be loaded.
    """
    from accelerate import PartialState

    started = time.perf_counter()
    state = PartialState(cpu=_use_cpu(settings))
    run, generated, pending = evaluate_share(config, settings, state, generator, progress)  # 1.-3.
    # 4. every process has written its records
    state.wait_for_everyone()
    from accelerate.utils import gather_object

    generated_total = sum(gather_object([generated]))
    if not state.is_main_process:
        return None
    return write_outputs(run, config, state, generated_total, run.selector.selected - pending, started)  # 5.


def evaluate_share(
    config: EvaluationConfig,
    settings: Settings,
    state,
    generator: SampleGenerator | None = None,
    progress: ProgressFn | None = None,
) -> tuple[_EvaluationRun, int, int]:
    """Steps 1-3 of `evaluate` for one process of `state.num_processes` (an accelerate process or a
    dask task, `core.evaluation.sharding`): check, select, generate and score this process's share.

    Returns:
        (the run, samples this process generated, samples still to do before this run over all processes).
    """
    peer = _check_before_loading(config, generator)  # 1.
    run = _prepare_run(config, settings, generator, state)  # 2.
    generated, pending = _generate_share(run, config, settings, generator, peer, state, progress)  # 3.
    if run.selector.selected == 0:
        raise BadRequestError(
            f"No sample of {config.data_dir} can be evaluated ({len(run.dataset)} found, {len(run.selector.bad)} "
            f"unusable, {run.selector.no_control} without an earlier month for the control image).",
            "Use a dataset with at least two months per location for --controlnet-previous.",
        )
    run.dataset = run.dataset.without(run.selector.bad)
    log.info("%d samples selected, %d already done", run.selector.selected, run.selector.selected - pending)
    return run, generated, pending


def _check_before_loading(config: EvaluationConfig, generator: SampleGenerator | None) -> bool:
    """Step 1: the output folder can be written and the model id means something; True for a peer generator."""
    from core.io.outputs import check_output_dir

    check_output_dir(config.out_dir, "--out")
    from core.models.backends.registry import is_peer_backend

    peer = is_peer_backend(config.model_id)  # DiffusionSat, GeoSynth, map-sat, Text2Earth ids
    if generator is None and not peer:
        # Classify the model id first (no I/O) so a typo fails before metric weights are downloaded.
        from core.models.registry import resolve_model_id

        resolve_model_id(config.model_id)
    return peer


def _prepare_run(
    config: EvaluationConfig, settings: Settings, generator: SampleGenerator | None, state
) -> _EvaluationRun:
    """Step 2: the dataset (metadata only), the metric suite, this process's results and the selection."""
    # metadata only: images are opened, and places looked up, when a sample is reached
    dataset = read_evaluation_samples(config)
    suite = _metric_suite(config, settings)
    store = ResultStore(config.out_dir, rank=state.process_index)
    label = generator.label if generator is not None else config.model_id
    finished = store.finished_keys([n for n in suite.names if n != "fid"], needs_features="fid" in suite.names)
    # every setting that changes the images is in the key: a changed rerun into the same folder recomputes
    run_settings = _run_settings_key(config, label)
    selector = _selector(
        dataset,
        config,
        key_of=lambda sample: result_key(label, config.mode, sample.sample_id, run_settings),
        finished=finished,
        settings=settings,
    )
    return _EvaluationRun(dataset, suite, store, label, run_settings, selector)


def read_evaluation_samples(config: EvaluationConfig) -> Dataset:
    """The dataset (metadata only: images are opened, and places looked up, when a sample is reached),
    or the rows of the subset list."""
    if config.subset is not None:
        return read_subset(config.subset, config.data_dir)
    return read_dataset(config.data_dir, open_images=False, resolve_places=False)


def selection_label(config: EvaluationConfig) -> str:
    """How the samples were chosen, in words (printed, and kept in report.md and summary.json)."""
    if config.subset is not None:
        return f"the rows of {config.subset.name} in order" + (f", first {config.limit}" if config.limit else "")
    if config.limit is None:
        return "every sample"
    return f"seeded sample (seed {config.seed}) stratified over places and months"


def _load_generator(config: EvaluationConfig, settings: Settings, state, peer: bool) -> SampleGenerator:
    """The model's generator for this process (one GPU each when several share a machine)."""
    process_settings = _settings_for_process(settings, state)
    if peer:
        from core.evaluation.peer_samples import BackendSampleGenerator

        return BackendSampleGenerator(config, process_settings)
    return PipelineGenerator(config, process_settings)


def _generate_share(
    run: _EvaluationRun,
    config: EvaluationConfig,
    settings: Settings,
    generator: SampleGenerator | None,
    peer: bool,
    state,
    progress: ProgressFn | None,
) -> tuple[int, int]:
    """Step 3: generate and score this process's share, a batch at a time, appending each record.

    Every process walks the same selection; each takes every N-th sample still to do.

    Returns:
        (samples this process generated, samples still to do before this run over all processes).
    """
    from tqdm.auto import tqdm

    expected = -(-run.selector.expected // state.num_processes)
    bar = tqdm(total=expected, desc=f"evaluate[{state.process_index}]", disable=not state.is_main_process)
    generated = 0
    batch: list[Selected] = []
    batch_size = config.batch_size or 1

    def run_batch() -> None:
        nonlocal generated
        for record in _evaluate_batch(batch, config, generator, run.suite, run.store):
            run.store.append({**record, "settings_key": run.run_settings})
            generated += 1
            bar.update(1)
            if progress is not None and state.is_main_process:
                progress(generated, expected, record["sample_id"])
        batch.clear()

    pending = 0
    for item in run.selector:
        if item.finished:
            continue
        mine = pending % state.num_processes == state.process_index
        pending += 1
        if not mine:
            continue
        if generator is None:  # loaded on the first sample to do: a finished run loads nothing
            generator = _load_generator(config, settings, state, peer)
        if not batch and generated == 0:
            run.suite.device = getattr(generator, "device", "cpu")
            if config.batch_size is None and hasattr(generator, "batch_size"):
                batch_size = generator.batch_size()
                log.info("evaluating %d sample(s) per batch", batch_size)
        batch.append(item)
        if len(batch) >= batch_size:
            run_batch()
    if batch:
        run_batch()
    bar.close()
    return generated, pending


def write_outputs(
    run: _EvaluationRun, config: EvaluationConfig, state, generated_total: int, reused: int, started: float
) -> EvaluationReport:
    """Step 5 (main process): tables, plots, report.md and summary.json from every process's records."""
    suite, dataset, selector, label = run.suite, run.dataset, run.selector, run.label
    records = _comparable(run.store.read_all(), label, config.mode, run.run_settings)
    selection = describe_selection(selector.taken, selection_label(config))
    inception = _inception_score(records, run.store, suite, config)
    thresholds = extreme_thresholds([s.metadata.as_dict() for s in dataset], percentile=config.extreme_percentile)
    report = write_report(
        records,
        thresholds,
        config.out_dir,
        run.store,
        metrics=suite.names,
        notes=[f"Samples: {selection}.", *_notes(config, dataset, suite, selector.no_control, label)],
        clip_scale=config.clip_scale,
    )
    summary = {
        "model": label,
        "mode": config.mode,
        "selected": selector.selected,
        "selection": selection,
        "generated_this_run": generated_total,
        "reused": reused,
        "num_processes": state.num_processes,
        "metrics": list(suite.names),
        "metrics_unavailable": suite.unavailable,
        "skipped_files": dataset.skip_counts(),
        "skipped_no_control": selector.no_control,
        "extremes": thresholds.as_dict(),
        # the paper also reports IS (torch-fidelity: unbiased logits, 10 splits) of the generated images
        "inception_score": inception,
        "conventions": {
            "clip_scale": config.clip_scale,
            "fid_preprocessing": config.fid_preprocessing,
            "jpeg_quality": config.jpeg_quality,
            "control_choice": config.control_choice,
            "fill_missing_climate": config.fill_missing_climate,
            "caption_preset": config.caption_preset,
            "dtype": config.dtype,
            "controlnet_pooled": config.controlnet_pooled,
            "paper": config.paper_conventions,
        },
    }
    atomic_write_json(config.out_dir / "summary.json", summary)
    return EvaluationReport(
        out_dir=config.out_dir,
        markdown_path=report["markdown"],
        table_paths=report["tables"],
        plot_paths=report["plots"],
        n_selected=selector.selected,
        generated=generated_total,
        reused=reused,
        metrics_used=suite.names,
        metrics_unavailable=dict(suite.unavailable),
        skipped_files=dataset.skip_counts(),
        skipped_no_control=selector.no_control,
        selection=selection,
        num_processes=state.num_processes,
        elapsed_s=time.perf_counter() - started,
        summary=summary,
    )


def _run_settings_key(config: EvaluationConfig, label: str) -> str:
    """Everything of a run that changes its generated images (the sample and its control are in the key)."""
    return settings_key(
        model=label,
        lora=config.lora,
        controlnet=config.controlnet,
        mode=config.mode,
        steps=config.num_inference_steps,
        size_px=config.size_px,
        guidance=config.guidance_scale,
        seed=config.seed,
        caption_preset=config.caption_preset,
        control_choice=config.control_choice,
        jpeg_quality=config.jpeg_quality,
        fid_preprocessing=config.fid_preprocessing,
        clip_scale=config.clip_scale,
        transformer=config.transformer,
        control_range=config.control_range,
        fill_missing_climate=config.fill_missing_climate,
        # only when not the default, so the keys of earlier runs (and their resumption) stay as they were
        **({"dtype": config.dtype} if config.dtype != "auto" else {}),
        **({"controlnet_pooled": config.controlnet_pooled} if config.controlnet_pooled != "real" else {}),
    )


def _comparable(records: list[dict], label: str, mode: str, run_settings: str) -> list[dict]:
    """This run's records plus other models' (kept for the comparison table); earlier settings are left out."""
    return [
        r for r in records if (r.get("model"), r.get("mode")) != (label, mode) or r.get("settings_key") == run_settings
    ]


def _inception_score(
    records: list[dict], store: ResultStore, suite: MetricSuite, config: EvaluationConfig
) -> dict[str, Any] | None:
    """IS of every generated image with stored Inception features (None without FID or with < 10 images)."""
    from core.metrics.conventions import IS_SPLITS, inception_score_from_pool_features

    if "fid" not in suite.names:
        return None
    fakes = [pair[1] for r in records if r.get("has_features") and (pair := store.read_features(r["key"])) is not None]
    if len(fakes) < IS_SPLITS:
        return None
    classifier = getattr(suite._network("fid").extractor, "fc", None)
    if classifier is None:  # a custom feature extractor without the Inception classifier
        return None
    # the paper ran torchmetrics' InceptionScore(); its shuffle is seeded here by the run's seed
    convention = "torchmetrics" if config.paper_conventions else "torch-fidelity"
    weight = classifier.weight.detach().cpu().numpy()
    mean, std = inception_score_from_pool_features(np.stack(fakes), weight, convention=convention, seed=config.seed)
    return {"mean": mean, "std": std, "n": len(fakes), "splits": IS_SPLITS, "convention": convention}


def _notes(config: EvaluationConfig, dataset: Dataset, suite: MetricSuite, no_control: int, label: str) -> list[str]:
    notes = []
    if config.paper_conventions and config.subset is None:
        notes.append(
            "--paper without --subset: the paper evaluated fixed lists (seed_98_final_test_single_image.csv, "
            "ControlNet: seed_98_final_test_two_images_future.csv); this run took a stratified sample instead."
        )
    if label == "tiny-random":
        notes.append("Model `tiny-random` is a tiny randomly initialised SD3 for smoke tests: it produces noise.")
    from core.models.backends.registry import ALL_BACKENDS

    peer = ALL_BACKENDS.get(label)
    if peer is not None and peer.family != "sd3":
        notes.append(f"Model `{label}`: {peer.description}.")
    if dataset.skipped:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(dataset.skip_counts().items()))
        notes.append(f"{len(dataset.skipped)} dataset file(s) skipped ({counts}); see summary.json.")
    if no_control:
        notes.append(f"{no_control} sample(s) had no real image 1-6 months earlier for the ControlNet control.")
    for name, reason in sorted(suite.unavailable.items()):
        notes.append(f"{name.upper()} not computed: {reason}")
    notes.append(
        f"Extreme conditions: beyond the {config.extreme_percentile:g}th / {100 - config.extreme_percentile:g}th "
        "percentiles of the dataset's monthly climate values (samples without climate are left out)."
    )
    notes.append("FID is computed per row from that row's samples; with few samples it is not comparable to the paper.")
    return notes


def write_report(
    records: list[dict],
    thresholds,
    out_dir: Path,
    store: ResultStore,
    metrics: tuple[str, ...],
    notes: list[str] = (),
    clip_scale: str | None = None,
) -> dict[str, Any]:
    """Write tables/*.csv, report.md and plots/*.png from per-sample records."""
    from core.evaluation.plots import plot_metrics_by_land_cover, plot_metrics_vs_climate

    load = store.read_features if "fid" in metrics else None
    tables = build_tables(records, thresholds, load, metrics=METRIC_NAMES)
    table_paths = {}
    for name, table in tables.items():
        path = out_dir / "tables" / f"{name}.csv"
        atomic_write_text(path, table.to_csv(index=False, float_format="%.6g"))
        table_paths[name] = path
    lines = ["# EcoMapper evaluation", ""]
    for name, table in tables.items():
        lines += [f"## {TABLE_TITLES[name]}", "", to_markdown(table, clip_scale=clip_scale), ""]
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    markdown_path = atomic_write_text(out_dir / "report.md", "\n".join(lines))
    plots = {
        "land_cover": plot_metrics_by_land_cover(
            tables["land_cover"], metrics, out_dir / "plots" / "metrics_by_land_cover.png"
        ),
        "climate": plot_metrics_vs_climate(records, metrics, out_dir / "plots" / "metrics_vs_climate.png"),
    }
    return {"markdown": markdown_path, "tables": table_paths, "plots": plots}
