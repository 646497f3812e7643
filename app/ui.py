"""Minimal page until the full UI lands: shows that the app starts and which model is configured."""

from __future__ import annotations

import gradio as gr


def build_ui(model: str) -> gr.Blocks:
    with gr.Blocks(title="EcoMapper Studio") as demo:
        gr.Markdown(f"# EcoMapper Studio\nModel: `{model}`. The full interface is being built.")
    return demo


def launch(host: str, port: int, model: str, share: bool = False) -> None:
    build_ui(model).launch(server_name=host, server_port=port, share=share)
