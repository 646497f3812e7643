"""Model backends: registry of ids, loading (Hub, local, LoRA, ControlNet), tiny random models.

A light re-export: importing this package does not import torch (heavy imports happen inside the
functions), and no module of this package imports this file back (they import their siblings).
"""

from core.models.loading import LoadedPipeline, download_model, load_pipeline
from core.models.spec import ModelSpec

__all__ = ["LoadedPipeline", "ModelSpec", "download_model", "load_pipeline"]
