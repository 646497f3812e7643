"""Model backends: registry of ids, loading (Hub, local, LoRA, ControlNet), tiny random models.

Importing this package does not import torch: heavy imports happen inside the functions.
"""

from core.models.loading import LoadedPipeline, download_model, load_pipeline
from core.models.spec import ModelSpec

__all__ = ["LoadedPipeline", "ModelSpec", "download_model", "load_pipeline"]
