"""Start the EcoMapper Studio app: `python -m app` (or `python app.py`, `ecomapper app`) [--host H] [--port P] ..."""

from __future__ import annotations

import argparse
import logging
import os


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ecomapper app", description="EcoMapper Studio: climate-aware satellite imagery."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--model", default="sd3-medium", help="model id or local diffusers directory")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    # What clients may load is decided here, by whoever starts the server (see core/model_policy.py).
    shared = parser.add_argument_group("what clients may load (default: --model, tiny-random, checkpoints/ folders)")
    shared.add_argument("--allow-model", action="append", default=[], metavar="ID", help="offer another base model")
    shared.add_argument("--allow-lora", action="append", default=[], metavar="REF", help="offer a LoRA")
    shared.add_argument("--allow-controlnet", action="append", default=[], metavar="REF", help="offer a ControlNet")
    shared.add_argument(
        "--allow-downloads", action="store_true", help="download offered Hub weights that are not on this machine"
    )
    shared.add_argument("--max-upload-mb", type=int, default=20, help="largest upload accepted (default 20 MB)")
    args = parser.parse_args(argv)
    from core.errors import BadRequestError
    from core.limits import UPLOAD_MB

    try:
        UPLOAD_MB.check("--max-upload-mb", args.max_upload_mb)  # before the server starts
    except BadRequestError as err:
        parser.error(str(err))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from app.ui import launch

    launch(
        host=args.host,
        port=args.port,
        model=args.model,
        share=args.share,
        allow_models=tuple(args.allow_model),
        allow_loras=tuple(args.allow_lora),
        allow_controlnets=tuple(args.allow_controlnet),
        allow_downloads=args.allow_downloads,
        max_upload_mb=args.max_upload_mb,
    )


if __name__ == "__main__":
    main()
