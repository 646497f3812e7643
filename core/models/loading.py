"""Loading a pipeline from a `ModelSpec`: weights, optional LoRA and ControlNet, device, dtype, memory options."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import core.models.original_formats as original_formats
from core.config import Settings
from core.errors import BadRequestError, ModelUnavailableError
from core.io.inputs import check_input_file
from core.models.checkpoints import ProgressCallback, ResolvedWeights, resolve_weights
from core.models.registry import (
    TINY_MODEL_ID,
    ControlProfile,
    ModelSource,
    known_controlnet,
    resolve_model_id,
)
from core.models.spec import ModelSpec

log = logging.getLogger(__name__)

LORA_ADAPTER_NAME = "user_lora"
# From this size on, the VAE decodes in tiles (SD3's VAE at 1024 px needs several GB otherwise).
VAE_TILING_FROM_PX = 1024
T5_DROPPED_WARNING = (
    "Running without the T5 text encoder: the climate prompt (temperature, precipitation, radiation) is not "
    "used, only the spatial prompt through CLIP."
)
TINY_WARNING = "tiny-random is a randomly initialised test model: it produces noise, not satellite images."
_PIPELINE_CLASSES = ("StableDiffusion3Pipeline", "StableDiffusion3ControlNetPipeline")
# Generation modes and the diffusers pipeline each runs; all are built from the same loaded modules.
MODE_PIPELINES = {
    "text": "StableDiffusion3Pipeline",
    "img2img": "StableDiffusion3Img2ImgPipeline",
    "inpaint": "StableDiffusion3InpaintPipeline",
    "controlnet": "StableDiffusion3ControlNetPipeline",
}
# How many times weights were read (or the tiny model built), per part: "base", "controlnet", "lora".
# Switching modes or ControlNets on a cached base, or changing the LoRA scale, must not add to "base".
LOAD_COUNTS: Counter[str] = Counter()


@dataclass
class LoadedPipeline:
    """A loaded model the app and the CLI hold and reuse across requests.

    Attributes:
        pipe: the text-to-image StableDiffusion3Pipeline.
        spec: what was asked for.
        source: where the base model came from (see `core.models.registry`).
        device: torch device string.
        dtype: torch dtype of the weights.
        warnings: things the user should know (no T5, tiny model makes noise, ...).
        controlnet_pipe: a StableDiffusion3ControlNetPipeline sharing the same modules, or None.
        origins: for each part (model, lora, controlnet), where its weights were found.
        controlnet_profile: what the ControlNet needs (Canny or not, control range, default scale).
    """

    pipe: Any
    spec: ModelSpec
    source: ModelSource
    device: str
    dtype: Any
    warnings: tuple[str, ...] = ()
    controlnet_pipe: Any | None = None
    origins: dict[str, str] = field(default_factory=dict)
    controlnet_profile: ControlProfile | None = None
    _offloaded: str | None = None
    _control_handle: Any = None  # the control-range hook on the ControlNet (original_formats), or None
    _mode_pipes: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_tiny(self) -> bool:
        return self.source.is_tiny

    @property
    def offloaded(self) -> bool:
        """Weights wait in system RAM and visit the GPU (model or sequential CPU offload)."""
        return self.spec.cpu_offload or self.spec.sequential_offload

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def has_t5(self) -> bool:
        return getattr(self.pipe, "text_encoder_3", None) is not None

    @property
    def has_controlnet(self) -> bool:
        return self.controlnet_pipe is not None

    def pipeline_for(self, mode: str):
        """The pipeline for "text", "img2img", "inpaint" or "controlnet", sharing the loaded modules.

        Mode pipelines are built once from `pipe.components` (nothing is loaded); with CPU offload,
        accelerate's hooks are moved onto the pipeline in use when the mode changes.
        """
        if mode not in MODE_PIPELINES:
            raise BadRequestError(f"Unknown generation mode {mode!r}.", f"Use one of {', '.join(MODE_PIPELINES)}.")
        if mode == "controlnet":
            if self.controlnet_pipe is None:
                raise BadRequestError(
                    f"ControlNet mode was asked for, but the model {self.model_id} was loaded without a ControlNet.",
                    "Load one with --controlnet ID_OR_PATH (e.g. instantx-tile for sd3-medium, or one trained with "
                    "`python -m core train`), or use text or img2img mode.",
                )
            target = self.controlnet_pipe
        elif mode == "text":
            target = self.pipe
        else:
            channels = self.pipe.transformer.config.in_channels
            if mode == "inpaint" and channels not in (16, 33):
                raise BadRequestError(
                    f"Inpainting needs an SD3 model with 16 latent channels; {self.model_id} has {channels}.",
                    "Use sd3-medium or another SD3 model (tiny-random has 4 latent channels).",
                )
            target = self._mode_pipes.get(mode)
            if target is None:
                import diffusers

                target = getattr(diffusers, MODE_PIPELINES[mode])(**self.pipe.components)
                target.set_progress_bar_config(disable=True)
                self._mode_pipes[mode] = target
        if self.offloaded and self._offloaded != mode:
            # accelerate's hooks live on the shared modules: re-install them for the pipeline in use.
            if self.spec.sequential_offload:
                target.enable_sequential_cpu_offload(device=self.device)
            else:
                target.enable_model_cpu_offload(device=self.device)
            self._offloaded = mode
        return target

    def shares_modules_with(self, pipeline) -> bool:
        """Every module of `pipeline` (but a ControlNet) is the very object of the text pipeline."""
        return all(
            module is self.pipe.components.get(name)
            for name, module in pipeline.components.items()
            if name != "controlnet"
        )

    def set_controlnet(
        self,
        controlnet,
        profile: ControlProfile,
        origin: str,
        ref: str | None,
        control_range: str = "-1-1",
        pooled: str = "real",
    ) -> None:
        """Attach (or swap) the ControlNet on the loaded base: only the ControlNet pipeline is rebuilt.

        `control_range` as `original_formats.resolve_control_range` gives it ("-1-1" or "0-1").
        """
        from diffusers import StableDiffusion3ControlNetPipeline

        check_controlnet_fits(controlnet, self.pipe.transformer)
        if self._control_handle is not None:  # the previous ControlNet's range hook
            self._control_handle.remove()
            self._control_handle = None
        if not self.offloaded:
            controlnet.to(self.device)
            if controlnet.dtype != self.dtype:
                controlnet.to(dtype=self.dtype)
        self.controlnet_pipe = StableDiffusion3ControlNetPipeline(**self.pipe.components, controlnet=controlnet)
        self.controlnet_pipe.set_progress_bar_config(disable=True)
        self._control_handle = original_formats.install_control_range(self.controlnet_pipe, control_range, pooled)
        self.controlnet_profile = profile
        self.origins["controlnet"] = origin
        if self._offloaded == "controlnet":
            self._offloaded = None
        self.spec = ModelSpec(**{**self.spec.as_dict(), "controlnet": ref})

    def prepare_for_size(self, size_px: int) -> None:
        """Tile the VAE decode at 1024 px and above (memory), decode whole below (speed, no seams)."""
        if size_px >= VAE_TILING_FROM_PX:
            self.pipe.vae.enable_tiling()
        else:
            self.pipe.vae.disable_tiling()

    def set_lora_scale(self, scale: float) -> None:
        """Change the LoRA strength without reloading (0 gives the base model's output)."""
        if self.spec.lora is None:
            raise BadRequestError("No LoRA is loaded, so its scale cannot be set.", "Load the model with --lora.")
        self.pipe.set_adapters([LORA_ADAPTER_NAME], adapter_weights=[float(scale)])
        self.spec = ModelSpec(**{**self.spec.as_dict(), "lora_scale": float(scale)})

    def describe(self) -> dict[str, object]:
        """JSON-safe description for metadata and the UI."""
        return {
            **self.spec.as_dict(),
            "ran_on": {"device": self.device, "dtype": str(self.dtype).replace("torch.", "")},
            "is_tiny": self.is_tiny,
            "has_t5": self.has_t5,
            "has_controlnet": self.has_controlnet,
            "controlnet_profile": (
                None
                if self.controlnet_profile is None
                else {
                    "preprocess": self.controlnet_profile.preprocess,
                    "conditioning_scale": self.controlnet_profile.conditioning_scale,
                }
            ),
            "origins": dict(self.origins),
            "warnings": list(self.warnings),
        }


def _report(progress: ProgressCallback | None, step: int, total: int, message: str) -> None:
    log.info("%s", message)
    if progress is not None:
        progress(step, total, message)


def _pipeline_class_name(folder: Path) -> str:
    try:
        name = json.loads((folder / "model_index.json").read_text()).get("_class_name", "")
    except (OSError, json.JSONDecodeError) as err:
        raise ModelUnavailableError(
            f"Cannot read {folder / 'model_index.json'}: {err}", "Save the model again with save_pretrained."
        ) from err
    if name not in _PIPELINE_CLASSES:
        raise ModelUnavailableError(
            f"The model at {folder} is a {name or 'unknown'} pipeline, not Stable Diffusion 3.",
            "Use an SD3 model in diffusers format (e.g. sd3-medium or a folder saved from one).",
        )
    return name


def _load_base(folder: Path, dtype, drop_t5: bool, t5_quantization: str = "none"):
    """(text pipeline, ControlNet from the folder or None)."""
    import diffusers

    cls = getattr(diffusers, _pipeline_class_name(folder))
    LOAD_COUNTS["base"] += 1
    extra = {"text_encoder_3": None, "tokenizer_3": None} if drop_t5 else {}
    try:
        if t5_quantization != "none":
            extra["text_encoder_3"] = _quantized_t5(folder, dtype, t5_quantization)
        loaded = cls.from_pretrained(folder, dtype=dtype, local_files_only=True, **extra)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        raise ModelUnavailableError(
            f"The model at {folder} could not be loaded: {str(err).splitlines()[0]}",
            "The folder may be incomplete or corrupt: download it again with `python -m core download` "
            "or save it again with save_pretrained.",
        ) from err
    controlnet = loaded.components.get("controlnet")
    if controlnet is None:
        return loaded, None
    parts = {name: module for name, module in loaded.components.items() if name != "controlnet"}
    return diffusers.StableDiffusion3Pipeline(**parts), controlnet


def _check_cuda_options(spec: ModelSpec, device: str) -> None:
    """Offload and T5 quantisation exist for CUDA GPUs only: refuse them elsewhere before loading."""
    if device.startswith("cuda"):
        return
    for on, flag, what in (
        (spec.cpu_offload, "--cpu-offload", "Model CPU offload"),
        (spec.sequential_offload, "--sequential-offload", "Sequential CPU offload"),
        (spec.t5_quantization != "none", "--t5-quantization", "A quantised T5 (bitsandbytes)"),
    ):
        if on:
            raise BadRequestError(
                f"{what} needs a CUDA GPU; the device is {device}.",
                f"Leave {flag} out on this machine (it saves GPU memory, and there is no GPU here).",
            )


def _quantized_t5(folder: Path, dtype, bits: str):
    """The T5 encoder with bitsandbytes 8-bit (LLM.int8) or 4-bit NF4 weights, on the GPU."""
    try:
        import bitsandbytes  # noqa: F401 - transformers needs it installed, not imported
    except ImportError as err:
        raise ModelUnavailableError(
            "--t5-quantization needs the bitsandbytes package, which is not installed.",
            "Install it on the GPU machine: pip install 'bitsandbytes>=0.45'.",
        ) from err
    from transformers import BitsAndBytesConfig, T5EncoderModel

    if bits == "8bit":
        config = BitsAndBytesConfig(load_in_8bit=True)
    else:
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)
    return T5EncoderModel.from_pretrained(
        folder / "text_encoder_3", quantization_config=config, dtype=dtype, local_files_only=True
    )


def _build_tiny(drop_t5: bool):
    from diffusers import StableDiffusion3Pipeline

    from core.models.tiny import build_tiny_pipeline

    LOAD_COUNTS["base"] += 1
    pipe = build_tiny_pipeline(seed=0, with_controlnet=True)
    parts = {name: module for name, module in pipe.components.items() if name != "controlnet"}
    if drop_t5:
        parts.update(text_encoder_3=None, tokenizer_3=None)
    return StableDiffusion3Pipeline(**parts), pipe.controlnet


def _check_known_base(ref: str, model_id: str) -> None:
    """A known ControlNet asked for on a known base it was not made for fails before any download."""
    known = known_controlnet(ref)
    base = resolve_model_id(model_id).known
    if known is not None and base is not None and base.controlnet_family != known.base_model:
        raise BadRequestError(
            f"The ControlNet {known.controlnet_id} ({known.repo_id}) is made for {known.base_model}, not {model_id}.",
            f"Use --model {known.base_model}, or a ControlNet made for {model_id}.",
        )


def load_controlnet(
    ref: str,
    model_id: str,
    settings: Settings,
    dtype=None,
    progress: ProgressCallback | None = None,
    hf_cache_dir=None,
    transformer=None,
):
    """(ControlNet module, its profile, origin) for a short name, Hub id or folder.

    Args:
        ref: "instantx-tile", "instantx-canny", a Hub id, a folder, or "tiny-random".
        model_id: the base it will be attached to (checked against the registry first).
        transformer: the base's transformer (the tiny ControlNet is built from it).
    """
    from diffusers import SD3ControlNetModel

    from core.models.control import profile_for

    _check_known_base(ref, model_id)
    LOAD_COUNTS["controlnet"] += 1
    if ref == TINY_MODEL_ID:
        if model_id != TINY_MODEL_ID:
            raise BadRequestError(
                "The tiny-random ControlNet only fits the tiny-random model.",
                "Give a ControlNet trained for your base model.",
            )
        from core.models.tiny import build_controlnet_from_transformer

        return build_controlnet_from_transformer(transformer), profile_for(None, None), "built-in"
    resolved = resolve_weights(
        ref, settings, what="ControlNet", pipeline=False, progress=progress, hf_cache_dir=hf_cache_dir
    )
    folder = resolved.path
    original = original_formats.find_original_controlnet_lora(folder)
    if original is not None:  # the original train_controlnet_lora.py output: converted on load
        module = original_formats.original_controlnet_lora(original, transformer, dtype)
        return module, profile_for(ref, folder), resolved.origin
    if folder.is_dir() and not (folder / "config.json").is_file() and (folder / "controlnet" / "config.json").is_file():
        folder = folder / "controlnet"  # a whole ControlNet pipeline folder
    try:
        controlnet = SD3ControlNetModel.from_pretrained(folder, dtype=dtype, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelUnavailableError(
            f"The ControlNet at {folder} could not be loaded: {str(err).splitlines()[0]}",
            "Point --controlnet at a folder saved by SD3ControlNetModel.save_pretrained (config.json + weights).",
        ) from err
    return controlnet, profile_for(ref, folder), resolved.origin


def check_controlnet_fits(controlnet, transformer) -> None:
    keys = ("joint_attention_dim", "caption_projection_dim", "patch_size", "in_channels", "num_attention_heads")
    mismatched = [k for k in keys if controlnet.config.get(k) != transformer.config.get(k)]
    inner = controlnet.config.num_attention_heads * controlnet.config.attention_head_dim
    if inner != transformer.config.num_attention_heads * transformer.config.attention_head_dim:
        mismatched.append("attention width")
    if mismatched:
        raise ModelUnavailableError(
            f"The ControlNet does not fit this base model (different {', '.join(mismatched)}).",
            "Use a ControlNet made for the same base model (SD3 Medium ControlNets for sd3-medium).",
        )


def _apply_lora(pipe, ref: str, scale: float, settings: Settings, progress, hf_cache_dir) -> str:
    LOAD_COUNTS["lora"] += 1
    path = Path(ref).expanduser()
    if path.exists():
        origin = "path"
    else:
        resolved: ResolvedWeights = resolve_weights(
            ref, settings, what="LoRA", pipeline=False, progress=progress, hf_cache_dir=hf_cache_dir
        )
        path, origin = resolved.path, resolved.origin
    if not path.is_dir():
        check_input_file(path, "LoRA", "Give a .safetensors file or a folder holding one.")  # no FIFO or device
    kwargs = {"weight_name": path.name} if path.is_file() else {}
    folder = path.parent if path.is_file() else path
    from safetensors import SafetensorError

    try:
        # the original EcoMapper train_lora.py file is converted; its norm_out/proj_out replace the base's
        original = original_formats.find_original_lora(path)
        source = original_formats.original_lora(original) if original is not None else None
        if source is not None:
            pipe.load_lora_weights(source.lora_state, adapter_name=LORA_ADAPTER_NAME)
        else:
            pipe.load_lora_weights(str(folder), adapter_name=LORA_ADAPTER_NAME, local_files_only=True, **kwargs)
        full_weights = source.full_weights if source is not None else original_formats.read_full_weights(path)
        original_formats.apply_full_weights(pipe.transformer, full_weights)
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as err:  # a corrupt or foreign file
        raise ModelUnavailableError(
            f"The LoRA {ref} could not be applied: {str(err).splitlines()[0]}",
            "Give a .safetensors file or folder written by save_lora_weights for an SD3 model.",
        ) from err
    pipe.set_adapters([LORA_ADAPTER_NAME], adapter_weights=[scale])
    return origin


def load_pipeline(
    spec: ModelSpec,
    settings: Settings,
    progress: ProgressCallback | None = None,
    hf_cache_dir: str | os.PathLike | None = None,
) -> LoadedPipeline:
    """Load a model as `spec` says, ready to generate.

    Steps: 1. resolve the id; 2. pick device and dtype; 3. load (or build) the base pipeline;
    4. attach a ControlNet; 5. apply a LoRA; 6. place on the device (or install CPU offload).

    Args:
        spec: model id, LoRA, ControlNet, device, dtype and memory options.
        settings: checkpoints folder, offline mode, Hub endpoint, default device and dtype.
        progress: `progress(step, total, message)` for loading stages and downloads.
        hf_cache_dir: Hugging Face cache folder (default: huggingface_hub's).

    Raises:
        BadRequestError: an impossible option (unknown id, CPU offload without a GPU, ...).
        ModelUnavailableError: weights missing, gated, offline, incomplete or incompatible.
    """
    from core.models.device import choose_device, choose_dtype

    total = 6
    # 0. a shared server loads only what its operator offers (checked before any disk or network access)
    if settings.model_policy is not None:
        settings.model_policy.check_spec(spec)
    # 1. what the id means (a full fine-tune folder from the original train.py goes on sd3-medium)
    spec = original_formats.spec_for_null_encoder_folder(spec)
    source = resolve_model_id(spec.model_id)
    # 2. where and in which precision
    device = choose_device(spec.device if spec.device != "auto" else settings.device)
    dtype = choose_dtype(device, spec.dtype if spec.dtype != "auto" else settings.dtype)
    _check_cuda_options(spec, device)
    warnings: list[str] = []
    origins: dict[str, str] = {}

    # 3. the base pipeline
    _report(progress, 1, total, f"loading {spec.model_id}")
    pipe, bundled_controlnet = _base_pipeline(spec, source, settings, dtype, progress, hf_cache_dir, warnings, origins)

    # 4. ControlNet: the one asked for, else one bundled in the model folder (or the tiny one)
    _report(progress, 2, total, "attaching the ControlNet")
    controlnet, profile = _controlnet_for(
        spec, source, settings, dtype, pipe, bundled_controlnet, progress, hf_cache_dir, origins
    )
    controlnet_pipe, control_handle = _controlnet_pipeline(pipe, controlnet, spec, settings)

    # 5. LoRA on the shared transformer (both pipelines see it)
    if spec.lora is not None:
        _report(progress, 3, total, f"applying the LoRA {spec.lora}")
        origins["lora"] = _apply_lora(pipe, spec.lora, spec.lora_scale, settings, progress, hf_cache_dir)

    # 6. device placement
    _report(progress, 4, total, f"placing on {device} ({str(dtype).replace('torch.', '')})")
    loaded = LoadedPipeline(
        pipe=pipe,
        spec=spec,
        source=source,
        device=device,
        dtype=dtype,
        warnings=tuple(warnings),
        controlnet_pipe=controlnet_pipe,
        origins=origins,
        controlnet_profile=profile,
        _control_handle=control_handle,
    )
    _place(loaded, controlnet)
    for message in warnings:
        log.warning("%s", message)
    _report(progress, total, total, f"{spec.model_id} ready")
    return loaded


def _resolve_base_weights(
    model_id: str,
    source: ModelSource,
    settings: Settings,
    drop_t5: bool,
    progress: ProgressCallback | None,
    hf_cache_dir: str | os.PathLike | None,
) -> ResolvedWeights:
    """Where a base model's weights are (downloaded when allowed); without T5 its files are skipped."""
    skip = ("text_encoder_3", "tokenizer_3") if drop_t5 else ()
    return resolve_weights(
        model_id,
        settings,
        what="model",
        repo_id=source.repo_id,
        skip_parts=skip,
        progress=progress,
        hf_cache_dir=hf_cache_dir,
    )


def _base_pipeline(
    spec: ModelSpec,
    source: ModelSource,
    settings: Settings,
    dtype: Any,
    progress: ProgressCallback | None,
    hf_cache_dir: str | os.PathLike | None,
    warnings: list[str],
    origins: dict[str, str],
) -> tuple[Any, Any | None]:
    """Step 3 of `load_pipeline`: (pipeline, the ControlNet bundled with it or None), built or loaded,
    with `spec.transformer` swapped in; adds to `warnings` and `origins`."""
    if source.is_tiny:
        pipe, bundled_controlnet = _build_tiny(spec.drop_t5)
        origins["model"] = "built-in"
        warnings.append(TINY_WARNING)
    else:
        resolved = _resolve_base_weights(spec.model_id, source, settings, spec.drop_t5, progress, hf_cache_dir)
        origins["model"] = resolved.origin
        pipe, bundled_controlnet = _load_base(resolved.path, dtype, spec.drop_t5, spec.t5_quantization)
    if spec.drop_t5:
        warnings.append(T5_DROPPED_WARNING)
    if spec.transformer is not None:
        pipe = original_formats.with_transformer(pipe, spec.transformer, dtype)
        origins["transformer"] = "path"
    return pipe, bundled_controlnet


def _controlnet_for(
    spec: ModelSpec,
    source: ModelSource,
    settings: Settings,
    dtype: Any,
    pipe: Any,
    bundled_controlnet: Any | None,
    progress: ProgressCallback | None,
    hf_cache_dir: str | os.PathLike | None,
    origins: dict[str, str],
) -> tuple[Any | None, ControlProfile | None]:
    """Step 4 of `load_pipeline`: (ControlNet, its profile): the one `spec` asks for, else the bundled one."""
    if spec.controlnet is not None:
        controlnet, profile, origins["controlnet"] = load_controlnet(
            spec.controlnet,
            spec.model_id,
            settings,
            dtype,
            progress,
            hf_cache_dir,
            pipe.transformer,
        )
        return controlnet, profile
    if bundled_controlnet is None:
        return None, None
    from core.models.control import profile_for

    origins["controlnet"] = origins["model"]
    return bundled_controlnet, profile_for(None, source.path / "controlnet" if source.path else None)


def _controlnet_pipeline(pipe: Any, controlnet: Any | None, spec: ModelSpec, settings: Settings) -> tuple[Any, Any]:
    """(ControlNet pipeline sharing `pipe`'s components, its control-range hook), or (None, None) without one."""
    if controlnet is None:
        return None, None
    from diffusers import StableDiffusion3ControlNetPipeline

    check_controlnet_fits(controlnet, pipe.transformer)
    controlnet_pipe = StableDiffusion3ControlNetPipeline(**pipe.components, controlnet=controlnet)
    control_range = original_formats.resolve_control_range(spec, settings)
    hook = original_formats.install_control_range(controlnet_pipe, control_range, spec.controlnet_pooled)
    return controlnet_pipe, hook


def _place(loaded: LoadedPipeline, controlnet: Any | None) -> None:
    """Step 6 of `load_pipeline`: on the device in the dtype (or CPU offload installed), progress bars off."""
    pipe, dtype = loaded.pipe, loaded.dtype
    if loaded.offloaded:
        loaded.pipeline_for("text")
    else:
        # weights were loaded in `dtype` (the tiny model is built in float32): cast only what differs
        for module in (*pipe.components.values(), controlnet):
            if getattr(module, "hf_quantizer", None) is not None:
                continue  # bitsandbytes placed its quantised weights on the GPU; they cannot be cast
            if module is not None and hasattr(module, "to") and hasattr(module, "dtype"):
                module.to(loaded.device)
                if module.dtype != dtype:
                    module.to(dtype=dtype)
    for pipeline in (pipe, loaded.controlnet_pipe):
        if pipeline is not None:
            pipeline.set_progress_bar_config(disable=True)


def download_model(
    model_id: str,
    settings: Settings,
    progress: ProgressCallback | None = None,
    hf_cache_dir: str | os.PathLike | None = None,
    drop_t5: bool = False,
) -> ResolvedWeights:
    """Make a model available locally (for `python -m core download`); returns where it is.

    The tiny model needs no download; asking for it raises a BadRequestError saying so.
    """
    source = resolve_model_id(model_id)
    if source.is_tiny:
        raise BadRequestError(
            "tiny-random is built in code and needs no download (it produces noise; it is for tests).",
            "Use it directly with --model tiny-random, or download sd3-medium.",
        )
    return _resolve_base_weights(model_id, source, settings, drop_t5, progress, hf_cache_dir)
