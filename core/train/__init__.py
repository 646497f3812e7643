"""Fine-tuning SD3 on EcoMapper data: LoRA (text-to-image) and ControlNet, with accelerate.

`import core.train` stays light: torch, diffusers and accelerate load when `train` runs.
"""

from core.train.config import TrainConfig, load_train_config


def train(config, settings, progress=None, cancel=None):
    """Run a training job; see `core.train.loop.train`."""
    from core.train.loop import train as _train

    return _train(config, settings, progress=progress, cancel=cancel)


def __getattr__(name: str):
    if name == "TrainResult":
        from core.train.loop import TrainResult

        return TrainResult
    raise AttributeError(name)


__all__ = ["TrainConfig", "TrainResult", "load_train_config", "train"]
