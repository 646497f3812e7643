"""Peer generators behind one interface: DiffusionSat, GeoSynth, map-sat, Text2Earth, COP-GEN, TerraMind, ... (SD3:
the engine).

`load_backend(id, settings)` returns a `Backend` whose `generate(GenerationRequest)` gives a
`BackendResult`; `BACKENDS` / `TINY_BACKENDS` list every generator id, SD3 ones included.
Importing this package does not import torch.
"""

from __future__ import annotations

from core.config import Settings
from core.errors import BadRequestError
from core.models.backends.base import Backend, BackendResult, Uses, ignored_parts
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
    "BackendResult",
    "Uses",
    "backend_info",
    "check_available",
    "ignored_parts",
    "is_peer_backend",
    "load_backend",
]


def load_backend(backend_id: str, settings: Settings) -> Backend:
    """Load a peer generator by id (tiny ones are built in code; others read checkpoints/, the HF cache or the Hub).

    Raises:
        BadRequestError: unknown id, or an SD3-family id (those load as an engine: `core.models.engine`).
        ModelUnavailableError: weights missing (offline) or not matching the architecture.
    """
    info = backend_info(backend_id)
    if info.family == "sd3":
        raise BadRequestError(
            f"{backend_id} is an SD3 model: it loads as a generation engine, not a peer backend.",
            "Load it with core.services.load_engine(ModelSpec(...)).",
        )
    if info.family == "diffusionsat":
        from core.models.backends.diffusionsat import load_diffusionsat

        return load_diffusionsat(info, settings)
    if info.family in ("geosynth", "map-sat"):
        from core.models.backends.layout_controlnets import load_layout_controlnet

        return load_layout_controlnet(info, settings)
    if info.family == "copgen":
        from core.models.backends.copgen import load_copgen

        return load_copgen(info, settings)
    if info.family == "zoomldm":
        from core.models.backends.zoomldm import load_zoomldm

        return load_zoomldm(info, settings)
    if info.family == "aerogen":
        from core.models.backends.aerogen import load_aerogen

        return load_aerogen(info, settings)
    if info.family == "terramind":  # optional: refuses in one line when terratorch is not installed
        from core.models.backends.terramind import load_terramind

        return load_terramind(info, settings)
    from core.models.backends.text2earth import load_text2earth

    return load_text2earth(info, settings)
