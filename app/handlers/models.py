"""Models side by side: the same place and month from every generator whose weights are here,
next to the real image, with the metrics, as one downloadable sheet (issue 11)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import ModelsForm
from app.handlers import requests
from app.handlers.context import AppContext, progress_bridge
from app.handlers.projection import ProjectionHandlers
from core import services

MODELS_FIELDS = ModelsForm.FIELDS
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelsShown:
    """The `/compare_models` endpoint's outputs, in order."""

    models_sheet: str
    models_metrics: str
    models_missing: str
    models_file: str


def allowed_backend_ids(settings, model_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(backends this server runs, [(backend, how to offer it)] for those it does not).

    Decided here and never by the client: the real backends the server's model policy offers
    (every one without a policy; those without weights are then listed with how to get them), plus
    the tiny random families when the server itself runs on the tiny test model."""
    policy = getattr(settings, "model_policy", None)
    run, refused = [], []
    for backend_id, *_ in services.backend_choices(settings):
        if policy is None or backend_id in policy.models:
            run.append(backend_id)
        else:
            refused.append((backend_id, f"not offered by this server (start it with --allow-model {backend_id})"))
    if formatting.is_noise(model_id):
        run += [row[0] for row in services.backend_choices(settings, tiny=True)]
    return run, refused


def _format_metric(name: str, value: float) -> str:
    """PSNR in dB with one decimal, the 0..1 scores with three (not '0.507' next to '8.43')."""
    return f"{value:.1f} dB" if name.lower() == "psnr" else f"{value:.3f}"


def _metrics_table(comparison) -> str:
    names = sorted({name for item in comparison.images for name in item.metrics})
    head = "| Model | Time | " + " | ".join(n.upper() for n in names) + (" | " if names else "") + "Ignores |"
    rule = "|---|---:|" + "---:|" * len(names) + "---|"
    rows = []
    for item in comparison.images:
        values = " | ".join(_format_metric(n, item.metrics[n]) if n in item.metrics else "–" for n in names)
        ignored = ", ".join(item.ignored) or "nothing"
        rows.append(f"| {item.backend_id} | {item.seconds:.1f} s | {values}{' | ' if names else ''}{ignored} |")
    real = f"Real image: {comparison.real_note}." + ("" if names else " No metrics without a real image.")
    # Which climate every model was asked for (the sliders' scenario or a picked projection).
    real = f"Scenario: **{comparison.request.scenario.label}** · {real}"
    # why the same model scores differently here and on the first tab (issue 25: SSIM 0.507 here, 0.112 there)
    why = (
        "Each model runs text-to-image at its own size and steps, so its scores differ from the first tab's "
        "(your mode, size and steps): compare scores within one tab."
    )
    return "\n".join([f"{real} {why}", "", head, rule, *rows]) if rows else real


def _missing_list(comparison, refused: list[tuple[str, str]]) -> str:
    """What end users can read: which models are not here and which failed. How to add a model is for
    whoever runs the server (weights, licences, --allow-model): that goes to the server log."""
    for bid, how in [*comparison.unavailable, *refused]:
        log.info("Models tab: %s is not on this server: %s", bid, how)
    absent = [bid for bid, _ in comparison.unavailable] + [bid for bid, _ in refused]
    lines = [f"Not on this server: {', '.join(absent)}."] if absent else []
    lines += [f"- **{bid}** failed: {message}" for bid, message in comparison.failed]
    lines += [f"- Map data {credit}" for credit in comparison.attributions]
    return "\n".join(lines) or "Every model this server allows is here."


class ModelsHandlers:
    """The Models tab (and `/compare_models`)."""

    def __init__(self, context: AppContext, projection: ProjectionHandlers) -> None:
        self.context = context
        self.projection = projection

    @shown_errors
    def compare_models(self, request: gr.Request, progress: gr.Progress, **values: Any) -> ModelsShown:
        form = ModelsForm.parse(values)
        settings = self.context.settings
        scenario = self.projection.scenario_for(form, progress)
        backend_request = requests.backend_request(form, services.place_of(form.point, settings), scenario)
        ids, refused = allowed_backend_ids(settings, self.context.config.model_id)
        with self.context.cancellable(request) as cancel:
            comparison = services.compare_models(
                backend_request, settings, ids, progress=progress_bridge(progress), cancel=cancel
            )
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), "models",
            formatting.scenario_stem(backend_request.scenario), f"seed{form.seed}",
        )  # fmt: skip
        path = services.write_comparison_sheet(comparison, self.context.output_folder(request) / f"{stem}.png")
        return ModelsShown(
            models_sheet=str(path),
            models_metrics=_metrics_table(comparison),
            models_missing=_missing_list(comparison, refused),
            models_file=str(path),
        )
