"""App start: how many times Gradio builds its server app (`gradio.routes.App.create_app`) and what each
build costs, for our page and for a bare Blocks app, from `build_ui` to a listening server.

Gradio 6.31 builds the server app three times for ANY Blocks app: in `Blocks.__init__` (it calls
`self.queue()`, which builds one), when the `with gr.Blocks()` block exits (`Blocks.__exit__`), and in
`launch()` (with our middleware). All three are unconditional in Gradio, so the public API cannot
avoid them: `gr.mount_gradio_app` instead of `launch()` builds one too, and calling `queue()` again
would add a fourth (the app sets the queue's size on the queue `__init__` made instead). The counter
below wraps `create_app` in this process only, to measure; the app itself does not touch it.

    .venv/bin/python -m benchmarks.bench_app_start [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _instrument() -> list[float]:
    """Seconds of each `App.create_app` call from now on (appended as they happen)."""
    from gradio import routes

    seconds: list[float] = []
    original = routes.App.create_app  # a staticmethod

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    routes.App.create_app = staticmethod(timed)
    return seconds


def _start(build, launch_kwargs) -> dict:
    seconds = _SECONDS
    seconds.clear()
    started = time.perf_counter()
    demo = build()
    built = time.perf_counter()
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                **launch_kwargs(demo))  # fmt: skip
    listening = time.perf_counter()
    demo.close()
    return {"builds": len(seconds), "build_s": list(seconds), "to_blocks_s": built - started,
            "to_listening_s": listening - started}  # fmt: skip


def _ours():
    from app.ui import build_ui

    return build_ui("tiny-random")


def _bare():
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown("bare")
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from app.ui import launch_kwargs

    rows = {"EcoMapper page": [], "bare Blocks": []}
    for _ in range(args.repeat):  # interleaved
        rows["EcoMapper page"].append(_start(_ours, launch_kwargs))
        rows["bare Blocks"].append(_start(_bare, lambda _demo: {}))
    print(f"start to a listening server (median of {args.repeat}, this process warm after the first):")
    print(f"{'app':<16}{'builds':>7}{'each build s':>22}{'to Blocks s':>13}{'to listening s':>16}")
    for name, measured in rows.items():
        each = " / ".join(f"{statistics.median(r['build_s'][i] for r in measured):.3f}"
                          for i in range(measured[0]["builds"]))  # fmt: skip
        blocks = statistics.median(r["to_blocks_s"] for r in measured)
        listening = statistics.median(r["to_listening_s"] for r in measured)
        print(f"{name:<16}{measured[0]['builds']:>7}{each:>22}{blocks:>13.3f}{listening:>16.3f}")
    return 0


_SECONDS = _instrument()

if __name__ == "__main__":
    raise SystemExit(main())
