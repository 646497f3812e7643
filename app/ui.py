"""Build and launch the app: settings once, handlers bound to them, the layout, then Gradio's server."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from app.formatting import model_notice, operator_message
from app.handlers.bridge import warm_up_in_background
from app.handlers.registry import build_handlers
from app.layout.page import build_blocks
from app.layout.style import CSS
from app.map_picker import leaflet_url
from app.state import AppConfig
from core.config import Settings
from core.model_policy import ModelPolicy
from core.services import MODEL_IDS, weights_status
from core.sources.land_cover_classes import LAND_COVER_CLASSES

log = logging.getLogger(__name__)

# Gradio's queue: how many events wait at most before new ones are refused.
MAX_QUEUE_SIZE = 64


# Largest upload the server accepts (a recipe holds at most a 1024 px control image, ~4 MB).
DEFAULT_MAX_UPLOAD_MB = 20
# Gradio's own temporary files (uploads, served copies): swept every hour, removed after a day.
UPLOAD_SWEEP_S = (3600, 86400)


def default_output_dir() -> Path:
    """A private export folder for this process (one folder per browser session below it).

    Made with `mkdtemp` (mode 0700, an unpredictable name), so nobody can create it first as a
    symlink to elsewhere; removed when the process exits.
    """
    folder = Path(tempfile.mkdtemp(prefix="ecomapper-app-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def build_ui(
    model: str,
    settings: Settings | None = None,
    output_dir: Path | None = None,
    leaflet_base_url: str | None = None,
    policy: ModelPolicy | None = None,
) -> gr.Blocks:
    """The app's Blocks, ready to launch; nothing heavy happens here (the model loads on first use).

    Args:
        model: default model id (`sd3-medium`, `tiny-random`) or a local diffusers folder.
        settings: endpoints and folders; `Settings.from_env()` when None.
        output_dir: where exports are written; a folder under the system temp dir when None.
        leaflet_base_url: Leaflet's `dist` URL; `ECOMAPPER_LEAFLET_URL` or the CDN when None.
        policy: what clients may load; default: `model`, tiny-random and folders under checkpoints/,
            no downloads (see core.model_policy).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no launch telemetry from a shared server
    resolved = settings or Settings.from_env()
    if policy is not None or resolved.model_policy is None:
        resolved = resolved.with_(model_policy=policy or ModelPolicy.for_server(model, resolved.checkpoints_dir))
    config = AppConfig(
        settings=resolved,
        model_id=model,
        output_dir=Path(output_dir or default_output_dir()),
        leaflet_url=leaflet_base_url or leaflet_url(),
    )
    config.output_dir.mkdir(parents=True, exist_ok=True)
    present, detail = weights_status(model, resolved)
    for_operator = operator_message(model, present, detail)
    if for_operator:
        log.warning("%s", for_operator.replace("`", ""))
    # the menu offers what the server offers (the policy refuses the rest in core anyway)
    choices = [m for m in dict.fromkeys([model, *MODEL_IDS]) if m in resolved.model_policy.models]
    handlers = build_handlers(config)
    notice = model_notice(model, present)
    demo = build_blocks(handlers, notice, choices, tuple(LAND_COVER_CLASSES), max_queue_size=MAX_QUEUE_SIZE)
    # The place look-up loads in the background now, so the first click finds it warm.
    warm_up_in_background(resolved)
    demo.delete_cache = UPLOAD_SWEEP_S  # read at launch: uploads do not pile up
    demo.ecomapper_config = config  # read by tests and benchmarks (allowed paths, output folder)
    return demo


def launch_kwargs(demo: gr.Blocks) -> dict:
    """The launch() arguments every start needs (CSS and the export folder Gradio may serve)."""
    config: AppConfig = demo.ecomapper_config
    return {
        "css": CSS,
        "allowed_paths": [str(config.output_dir)],
        "max_file_size": f"{getattr(demo, 'ecomapper_max_upload_mb', DEFAULT_MAX_UPLOAD_MB)}mb",
    }


def launch(
    host: str,
    port: int,
    model: str,
    share: bool = False,
    *,
    allow_models: tuple[str, ...] = (),
    allow_loras: tuple[str, ...] = (),
    allow_controlnets: tuple[str, ...] = (),
    allow_downloads: bool = False,
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB,
) -> None:
    """Start the server and block (the command `python app.py`); what it may load is fixed here."""
    settings = Settings.from_env()
    policy = ModelPolicy.for_server(
        model,
        settings.checkpoints_dir,
        models=allow_models,
        loras=allow_loras,
        controlnets=allow_controlnets,
        allow_downloads=allow_downloads,
    )
    demo = build_ui(model, settings=settings, policy=policy)
    demo.ecomapper_max_upload_mb = max_upload_mb
    demo.launch(server_name=host, server_port=port, share=share, **launch_kwargs(demo))
