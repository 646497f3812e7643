"""What a shared server may load: decided by whoever starts it, never by a client.

The app's settings carry a `ModelPolicy`; `core.models.loading.load_pipeline` checks every model,
LoRA and ControlNet reference against it before touching the disk or the network, and
`core.models.checkpoints.resolve_weights` downloads only when the policy allows it. The command
line has no policy (the person typing is the operator). Refusals never depend on whether a path
exists, so a client cannot probe the server's file system.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadRequestError

# Built in code, read no file and download nothing: always safe to offer. These are the tiny random
# generators of the registry (`core.models.backends.registry.TINY_BACKENDS`; a test keeps both in step).
ALWAYS_ALLOWED = (
    "tiny-random",
    "tiny-diffusionsat",
    "tiny-diffusionsat-weather",
    "tiny-geosynth-osm",
    "tiny-geosynth-canny",
    "tiny-map-sat",
    "tiny-text2earth",
    "tiny-copgen",
    "tiny-zoomldm",
    "tiny-aerogen",
)


class NotAllowedError(BadRequestError):
    """A client asked for weights the server was not started to offer."""


@dataclass(frozen=True)
class ModelPolicy:
    """The weights a server offers.

    Args:
        models: base model ids (short ids, Hub ids or folders) clients may choose.
        loras: LoRA references clients may choose.
        controlnets: ControlNet references clients may choose.
        local_root: folders below it (the checkpoints folder) are allowed for every kind.
        allow_downloads: fetch allowed Hub weights that are not on this machine yet.
    """

    models: tuple[str, ...] = ()
    loras: tuple[str, ...] = ()
    controlnets: tuple[str, ...] = ()
    local_root: Path | None = None
    allow_downloads: bool = False

    @classmethod
    def for_server(
        cls,
        default_model: str,
        checkpoints_dir: Path,
        *,
        models: Iterable[str] = (),
        loras: Iterable[str] = (),
        controlnets: Iterable[str] = (),
        allow_downloads: bool = False,
    ) -> ModelPolicy:
        """The policy of `python app.py`: its --model, the listed extras and anything under checkpoints/."""
        return cls(
            models=tuple(dict.fromkeys([default_model, *ALWAYS_ALLOWED, *models])),
            loras=tuple(dict.fromkeys(loras)),
            controlnets=tuple(dict.fromkeys(["tiny-random", *controlnets])),  # it carries its own ControlNet
            local_root=Path(checkpoints_dir),
            allow_downloads=allow_downloads,
        )

    def check(self, kind: str, ref: str | None) -> None:
        """Raise NotAllowedError unless `ref` (a model, LoRA or ControlNet reference) is offered.

        Args:
            kind: "model", "LoRA" or "ControlNet".
            ref: what the client named (None: nothing asked for).
        """
        if ref is None:
            return
        text = str(ref).strip()
        allowed = {"model": self.models, "LoRA": self.loras, "ControlNet": self.controlnets}[kind]
        if text in allowed or self._under_local_root(text):
            return
        offered = ", ".join(allowed) if allowed else "none"
        # The same words whether or not such a path exists on the server.
        raise NotAllowedError(
            f"This server does not offer the {kind} {_shown(text)!r}.",
            f"Choose one of: {offered}"
            + (" (or a folder the operator put in the server's checkpoints folder)." if self.local_root else ".")
            + " The operator decides what a shared server loads (python app.py --allow-model / --allow-lora / "
            "--allow-controlnet).",
        )

    def _under_local_root(self, text: str) -> bool:
        """A path (absolute, ./ or ~) lexically inside `local_root`, decided without file system access.

        Bare names and owner/name are not paths here: a bare name may be a registry id that
        downloads, and owner/name a Hub id; both are offered only when listed.
        """
        if self.local_root is None or not text or "\x00" in text:
            return False
        if not (os.path.isabs(text) or text.startswith(("~", "./", "../"))):
            return False
        root = os.path.normpath(os.path.abspath(self.local_root))
        candidate = os.path.normpath(os.path.abspath(os.path.expanduser(text)))
        return candidate.startswith(root + os.sep)

    def check_spec(self, spec) -> None:
        """Check the model, LoRA and ControlNet of a `core.models.spec.ModelSpec`."""
        self.check("model", spec.model_id)
        self.check("LoRA", spec.lora)
        self.check("ControlNet", spec.controlnet)


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
