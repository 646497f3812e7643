"""One loaded base model per (model, device, dtype, T5, offload), shared by every mode and ControlNet.

Loading SD3 Medium reads ~16 GB; the app and a scripted session switch between text-to-image,
image-to-image, inpainting and ControlNet, between ControlNets, and move the LoRA slider. All of
these reuse the loaded base: a mode is a pipeline built from the same modules, a ControlNet is
loaded once and attached, a LoRA scale is an adapter weight. `core.models.loading.LOAD_COUNTS`
shows what was actually read.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from core.config import Settings
from core.models.checkpoints import ProgressCallback
from core.models.loading import LORA_ADAPTER_NAME, LoadedPipeline, load_controlnet, load_pipeline
from core.models.spec import ModelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaseKey:
    """What makes two specs share a loaded base: everything but the ControlNet and the LoRA scale."""

    model_id: str
    device: str
    dtype: str
    drop_t5: bool
    cpu_offload: bool
    lora: str | None
    t5_quantization: str = "none"
    sequential_offload: bool = False

    @classmethod
    def of(cls, spec: ModelSpec, settings: Settings) -> BaseKey:
        device = spec.device if spec.device != "auto" else settings.device
        dtype = spec.dtype if spec.dtype != "auto" else settings.dtype
        return cls(
            spec.model_id,
            device,
            dtype,
            spec.drop_t5,
            spec.cpu_offload,
            spec.lora,
            spec.t5_quantization,
            spec.sequential_offload,
        )


class ModelCache:
    """Loaded bases (at most `max_bases`, least recently used dropped first) and their ControlNets.

    Args:
        settings: checkpoints folder, offline mode, default device and dtype.
        max_bases: how many bases stay loaded (1 on a GPU with room for one SD3).
        hf_cache_dir: the Hugging Face cache folder (default: huggingface_hub's).
    """

    def __init__(self, settings: Settings, max_bases: int = 1, hf_cache_dir: str | os.PathLike | None = None) -> None:
        self.settings = settings
        self.max_bases = max(1, max_bases)
        self.hf_cache_dir = hf_cache_dir
        self._bases: dict[BaseKey, LoadedPipeline] = {}
        # ControlNet modules loaded for a base, by (base, ref, control range): switching back costs nothing
        self._controlnets: dict[tuple[BaseKey, str, str | None], tuple] = {}
        self._engines: dict[BaseKey, object] = {}
        self._lock = threading.RLock()

    def get(self, spec: ModelSpec, progress: ProgressCallback | None = None) -> LoadedPipeline:
        """The loaded base for `spec`, with its ControlNet and LoRA scale set as `spec` says."""
        # a shared server loads only what its operator offers: the whole spec, ControlNet included,
        # before anything is loaded or attached (load_controlnet alone does not ask the policy)
        if self.settings.model_policy is not None:
            self.settings.model_policy.check_spec(spec)
        key = BaseKey.of(spec, self.settings)
        with self._lock:
            loaded = self._bases.pop(key, None)
            if loaded is None:
                while len(self._bases) >= self.max_bases:
                    dropped = next(iter(self._bases))
                    log.info("Unloading %s to make room", dropped.model_id)
                    self._bases.pop(dropped)
                    self._controlnets = {k: v for k, v in self._controlnets.items() if k[0] != dropped}
                loaded = load_pipeline(
                    ModelSpec(**{**spec.as_dict(), "controlnet": None}),
                    self.settings,
                    progress=progress,
                    hf_cache_dir=self.hf_cache_dir,
                )
                if loaded.controlnet_pipe is not None:  # bundled with the model (the tiny one carries one)
                    self._controlnets[(key, "", None)] = (
                        loaded.controlnet_pipe.controlnet,
                        loaded.controlnet_profile,
                        loaded.origins.get("controlnet", "model"),
                    )
            self._bases[key] = loaded  # most recently used last
            self._set_controlnet(loaded, key, spec, progress)
            if spec.lora is not None and loaded.spec.lora_scale != spec.lora_scale:
                loaded.set_lora_scale(spec.lora_scale)
            return loaded

    def _set_controlnet(self, loaded: LoadedPipeline, key: BaseKey, spec: ModelSpec, progress) -> None:
        same_range = (loaded.spec.control_range, loaded.spec.controlnet_pooled) == (
            spec.control_range,
            spec.controlnet_pooled,
        )
        if loaded.spec.controlnet == spec.controlnet and same_range:
            return
        if spec.controlnet is None:
            # no ControlNet asked for: the one bundled with the model (if any), else none
            wanted = (key, "", None)
            if wanted not in self._controlnets:
                if loaded._control_handle is not None:
                    loaded._control_handle.remove()
                    loaded._control_handle = None
                loaded.controlnet_pipe = None
                loaded.controlnet_profile = None
                loaded.origins.pop("controlnet", None)
                loaded.spec = ModelSpec(**{**loaded.spec.as_dict(), "controlnet": None, "control_range": "auto"})
                return
        else:
            wanted = (key, spec.controlnet, spec.control_range)
            if wanted not in self._controlnets:
                self._controlnets[wanted] = load_controlnet(
                    spec.controlnet,
                    spec.model_id,
                    self.settings,
                    dtype=loaded.dtype,
                    progress=progress,
                    hf_cache_dir=self.hf_cache_dir,
                    transformer=loaded.pipe.transformer,
                )
        from core.models.original_formats import resolve_control_range

        module, profile, origin = self._controlnets[wanted]
        control_range = resolve_control_range(spec, self.settings)
        loaded.set_controlnet(module, profile, origin, spec.controlnet, control_range, spec.controlnet_pooled)
        loaded.spec = ModelSpec(
            **{
                **loaded.spec.as_dict(),
                "control_range": spec.control_range,
                "controlnet_pooled": spec.controlnet_pooled,
            }
        )

    def engine(self, spec: ModelSpec, progress: ProgressCallback | None = None):
        """A `core.models.engine.Engine` on the cached base (its prompt-embedding cache kept across calls)."""
        from core.models.engine import Engine

        with self._lock:
            loaded = self.get(spec, progress)
            key = BaseKey.of(spec, self.settings)
            engine = self._engines.get(key)
            if engine is None or engine.loaded is not loaded:
                engine = Engine(loaded)
                self._engines = {k: e for k, e in self._engines.items() if k in self._bases}
                self._engines[key] = engine
            return engine

    def loaded_bases(self) -> list[LoadedPipeline]:
        with self._lock:
            return list(self._bases.values())

    def clear(self) -> None:
        with self._lock:
            self._bases.clear()
            self._controlnets.clear()
            self._engines.clear()


__all__ = ["LORA_ADAPTER_NAME", "BaseKey", "ModelCache"]
