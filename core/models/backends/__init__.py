"""Generator backends behind one interface: SD3 (EcoMapper), DiffusionSat, GeoSynth, map-sat, Text2Earth.

`load_backend(id, settings)` returns a `Backend` whose `generate(BackendRequest)` gives a
`BackendResult`; `BACKENDS` / `TINY_BACKENDS` list the ids. Importing this package does not import torch.
"""

from __future__ import annotations

from core.config import Settings
from core.models.backends.base import Backend, BackendRequest, BackendResult, Uses
from core.models.backends.registry import (
    ALL_BACKENDS,
    BACKENDS,
    TINY_BACKENDS,
    Availability,
    BackendInfo,
    backend_info,
    check_available,
    is_peer_backend,
)

__all__ = [
    "ALL_BACKENDS",
    "BACKENDS",
    "TINY_BACKENDS",
    "Availability",
    "Backend",
    "BackendInfo",
    "BackendRequest",
    "BackendResult",
    "Uses",
    "backend_info",
    "check_available",
    "is_peer_backend",
    "load_backend",
]


def load_backend(backend_id: str, settings: Settings) -> Backend:
    """Load a backend by id (tiny ones are built in code; others read checkpoints/, the HF cache or the Hub).

    Raises:
        BadRequestError: unknown id.
        ModelUnavailableError: weights missing (offline) or not matching the architecture.
    """
    info = backend_info(backend_id)
    if info.family == "sd3":
        from core.models.backends.sd3 import load_sd3

        return load_sd3(info, settings)
    if info.family == "diffusionsat":
        from core.models.backends.diffusionsat import load_diffusionsat

        return load_diffusionsat(info, settings)
    if info.family in ("geosynth", "map-sat"):
        from core.models.backends.layout_controlnets import load_layout_controlnet

        return load_layout_controlnet(info, settings)
    from core.models.backends.text2earth import load_text2earth

    return load_text2earth(info, settings)
