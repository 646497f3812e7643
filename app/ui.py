"""Build and launch the app: settings once, handlers bound to them, the layout, then Gradio's server."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from app.errors import hide_in_messages
from app.export_guard import ExportGuard
from app.formatting import model_notice, operator_message
from app.handlers.bridge import warm_up_in_background
from app.handlers.registry import build_handlers
from app.layout.page import build_blocks
from app.layout.style import CSS
from app.map_picker import leaflet_url
from app.state import AppConfig
from core.config import Settings
from core.limits import UPLOAD_FILES_PER_REQUEST, UPLOAD_MB
from core.model_policy import ModelPolicy
from core.services import MODEL_IDS, create_export_root, remove_at_exit, weights_status
from core.sources.land_cover_classes import LAND_COVER_CLASSES

log = logging.getLogger(__name__)

# Gradio's queue: how many events wait at most before new ones are refused.
MAX_QUEUE_SIZE = 64


# Largest upload the server accepts (a recipe holds at most a 1024 px control image, ~4 MB).
DEFAULT_MAX_UPLOAD_MB = 20
# Gradio's own temporary files (uploads, served copies): swept every hour, removed after a day.
UPLOAD_SWEEP_S = (3600, 86400)


def default_output_dir() -> Path:
    """A private export folder for this process (one random-named folder per browser session below it).

    Made with `mkdtemp` (mode 0700, an unpredictable name), so nobody can create it first as a
    symlink to elsewhere; removed when the process exits (`launch` also at SIGTERM / SIGINT), and
    folders left by killed servers are removed first.
    """
    folder = create_export_root()
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
    log.info("%s", handlers.context.gpu.note(model).replace("`", ""))  # the GPU option in the server log
    notice = model_notice(model, present)
    demo = build_blocks(handlers, notice, choices, tuple(LAND_COVER_CLASSES), max_queue_size=MAX_QUEUE_SIZE)
    hide_in_messages(config.output_dir, demo.GRADIO_CACHE)
    # The place look-up loads in the background now, so the first click finds it warm.
    warm_up_in_background(resolved)
    demo.delete_cache = UPLOAD_SWEEP_S  # read at launch: uploads do not pile up
    demo.ecomapper_config = config  # read by tests and benchmarks (allowed paths, output folder)
    return demo


def launch_kwargs(demo: gr.Blocks) -> dict:
    """The launch() arguments every start needs: CSS, the export folder Gradio may serve (each session
    only its own files: `ExportGuard`), and the upload caps per file and per request."""
    config: AppConfig = demo.ecomapper_config
    max_upload_mb = getattr(demo, "ecomapper_max_upload_mb", DEFAULT_MAX_UPLOAD_MB)
    guard = {
        "exports": config.exports,
        # one file at the per-file cap plus the multipart framing of the others
        "max_request_bytes": max_upload_mb * 2**20 + UPLOAD_FILES_PER_REQUEST * 64 * 1024,
        "max_files": UPLOAD_FILES_PER_REQUEST,
    }
    return {
        "css": CSS,
        "allowed_paths": [str(config.output_dir)],
        "max_file_size": f"{max_upload_mb}mb",
        "app_kwargs": {"middleware": [Middleware(ExportGuard, **guard)]},
        # Gradio's own refusals (a widget's value of the wrong type) say what was wrong instead of an empty
        # "the app raised an exception"; ours are gr.Error already, with private paths removed
        "show_error": True,
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
    demo.ecomapper_max_upload_mb = UPLOAD_MB.check("--max-upload-mb", max_upload_mb)
    remove_at_exit(demo.ecomapper_config.exports, on_signals=True)
    demo.launch(server_name=host, server_port=port, share=share, **launch_kwargs(demo))
