"""The Gradio app: layout, map picker, event wiring and formatting. Never imports torch."""
