"""Model backends: registry of ids, loading (Hub, local, LoRA, ControlNet), tiny random models."""
