"""EcoMapper Studio library: real data at a point, climate-aware generation, evaluation, training."""

__version__ = "0.1.0"
