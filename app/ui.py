"""Build and launch the app: settings once, handlers bound to them, the layout, then Gradio's server."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import gradio as gr

from app.formatting import model_notice, operator_message
from app.handlers import Handlers
from app.layout import CSS, build_blocks
from app.map_picker import leaflet_url
from app.state import AppConfig
from core.config import Settings
from core.land_cover_classes import LAND_COVER_CLASSES
from core.services import MODEL_IDS, weights_status

log = logging.getLogger(__name__)

# Gradio's queue: how many events wait at most before new ones are refused.
MAX_QUEUE_SIZE = 64


def default_output_dir() -> Path:
    """Where exports go (one folder per browser session below it)."""
    return Path(tempfile.gettempdir()) / "ecomapper-app"


def build_ui(
    model: str,
    settings: Settings | None = None,
    output_dir: Path | None = None,
    leaflet_base_url: str | None = None,
) -> gr.Blocks:
    """The app's Blocks, ready to launch; nothing heavy happens here (the model loads on first use).

    Args:
        model: default model id (`sd3-medium`, `tiny-random`) or a local diffusers folder.
        settings: endpoints and folders; `Settings.from_env()` when None.
        output_dir: where exports are written; a folder under the system temp dir when None.
        leaflet_base_url: Leaflet's `dist` URL; `ECOMAPPER_LEAFLET_URL` or the CDN when None.
    """
    resolved = settings or Settings.from_env()
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
    choices = list(dict.fromkeys([model, *MODEL_IDS]))
    handlers = Handlers(config)
    demo = build_blocks(handlers, model_notice(model, present), choices, tuple(LAND_COVER_CLASSES))
    # The place look-up loads in the background now, so the first click finds it warm.
    handlers.warm_up_in_background()
    demo.queue(max_size=MAX_QUEUE_SIZE)
    demo.ecomapper_config = config  # read by tests and benchmarks (allowed paths, output folder)
    return demo


def launch_kwargs(demo: gr.Blocks) -> dict:
    """The launch() arguments every start needs (CSS and the export folder Gradio may serve)."""
    config: AppConfig = demo.ecomapper_config
    return {"css": CSS, "allowed_paths": [str(config.output_dir)]}


def launch(host: str, port: int, model: str, share: bool = False) -> None:
    """Start the server and block (the command `python app.py`)."""
    demo = build_ui(model)
    demo.launch(server_name=host, server_port=port, share=share, **launch_kwargs(demo))
