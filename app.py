"""Start the EcoMapper Studio app: python app.py [--host 127.0.0.1] [--port 7860] [--model ID]."""

from __future__ import annotations

import argparse
import logging


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="EcoMapper Studio: climate-aware satellite imagery.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--model", default="sd3-medium", help="model id or local diffusers directory")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from app.ui import launch

    launch(host=args.host, port=args.port, model=args.model, share=args.share)


if __name__ == "__main__":
    main()
