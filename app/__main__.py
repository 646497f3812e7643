"""Start the EcoMapper Studio app: `python -m app` (or `python app.py`, `ecomapper app`) [--host H] [--port P] ..."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys


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


def port_taken(host: str, port: int) -> str | None:
    """One line saying the port is in use and what to do, or None when it is free (checked before the slow
    start-up, so a second `bash scripts/start.sh` says so at once instead of a traceback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a closed port is free
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                return None  # another problem (a host name, permissions): Gradio reports it
            return (
                f"error: port {port} on {host} is in use (is the app already running? open http://{host}:{port}). "
                f"Stop the other server or start on another port: --port {port + 1}."
            )
    return None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    taken = port_taken(args.host, args.port)
    if taken:
        print(taken, file=sys.stderr)
        raise SystemExit(2)
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
