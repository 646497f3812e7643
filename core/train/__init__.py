"""Fine-tuning SD3 on EcoMapper data: LoRA (text-to-image) and ControlNet, with accelerate.

A light re-export: `import core.train` does not import torch, diffusers or accelerate (they load
when `train` runs), and no module of this package imports this file back.
"""

from core.train.config import TrainConfig, load_train_config
from core.train.loop import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "load_train_config", "train"]
