"""The Change tab (issue 20): the Generate form run for N seeds, today and under the scenario, and how sure
the change is: the mean change drawn on the map, the change and spread maps, and the agreement in one sentence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.errors import shown_errors
from app.forms import EDIT_APP_MODES, GenerateForm, read_int
from app.handlers import bridge
from app.handlers.context import AppContext, progress_bridge, stop_if_cancelled
from app.handlers.generate import GenerateHandlers, source_note
from app.state import GeneratedResults
from core import services
from core.errors import BadRequestError

CHANGE_FIELDS = (*GenerateForm.FIELDS, "samples")
# The app's share of core's 2..64 samples: each sample is two generations on a shared server.
APP_MIN_SAMPLES, APP_MAX_SAMPLES, APP_DEFAULT_SAMPLES = 2, 8, 3


@dataclass(frozen=True)
class ChangeShown:
    """The `/change` endpoint's outputs, in order."""

    change_sentence: str
    change_image: str
    spread_image: str
    change_json: str
    change_results: GeneratedResults


def edit_options_for(mode: str) -> dict:
    """The edit options are shown in modes Edit and Invert only."""
    return {"edit_options": gr.update(visible=mode in EDIT_APP_MODES)}


def read_samples(value: Any, low: int, high: int) -> int:
    samples = read_int(value, "number of samples", default=3)
    if not low <= samples <= high:
        raise BadRequestError(f"{samples} samples is not {low} to {high}.", f"Pick {low} to {high} samples here.")
    return samples


def greenness_line(greenness: dict) -> str:
    """The RGB greenness index of real, today and the scenario, with the change, in one line (and its caveat)."""
    if not greenness:
        return ""
    real = "no real image" if greenness.get("real") is None else f"real {greenness['real']:.3f}"
    change = greenness["change_scenario_minus_today"]
    return (f"Greenness ({greenness['index']}, from RGB, not NDVI): {real}, today {greenness['today']:.3f}, "
            f"scenario {greenness['scenario']:.3f} (change {change:+.3f}).")  # fmt: skip


def teacher_sentence(result: services.EnsembleResult) -> str:
    """The agreement sentence, then the size of the change and its spread in plain words, then greenness."""
    stats = result.statistics.as_dict()
    return (
        f"{result.agreement_sentence} The change averages {stats['mean_abs_change']:.1f} of 255 brightness "
        f"levels and varies by {stats['mean_spread']:.1f} between seeds ({stats['samples']} seeds, mode "
        f"{result.request.mode}). Red: brighter under the scenario, blue: darker. AI-generated.\n\n"
        + greenness_line(result.greenness)
    )


class ChangeHandlers:
    """The "Show change" button (and `/change`): an ensemble of the Generate form's request."""

    def __init__(self, context: AppContext, generate: GenerateHandlers) -> None:
        self.context = context
        self.generate_handlers = generate

    @shown_errors
    def show_change(self, request: gr.Request, progress: gr.Progress, **values: Any) -> ChangeShown:
        form = GenerateForm.parse(values, self.context.config.model_id)
        samples = read_samples(values.get("samples"), APP_MIN_SAMPLES, APP_MAX_SAMPLES)
        with self.context.cancellable(request) as cancel:
            prepared = self.generate_handlers.prepare(form, progress)
            stop_if_cancelled(cancel, "before denoising")
            result = services.run_ensemble(
                prepared.request, samples, self.context.settings, engine=prepared.engine,
                progress=progress_bridge(progress), cancel=cancel,
            )  # fmt: skip
        folder = self.context.output_folder(request)
        stem = f"{prepared.stem}_{samples}samples"
        paths = services.write_ensemble(result, folder / f"{stem}.png")
        overlay = bridge.write_plain_png(services.change_overlay(result), folder / f"{stem}_change_overlay.png")
        view = prepared.point_view
        shown_on_map = GeneratedResults(
            lat=form.point.lat, lon=form.point.lon, month=str(form.month), footprint=view.footprint_geojson,
            bbox=view.footprint_bbox, image_path=str(overlay), label=f"Mean change, {samples} seeds",
            real_path=self.generate_handlers.observed_path(form, folder),
        )  # fmt: skip
        note = source_note(result.scenario[0])
        sentence = teacher_sentence(result) + (f"\n\n{note}" if note else "")
        return ChangeShown(
            change_sentence=sentence,
            change_image=str(paths["change_png"]),
            spread_image=str(paths["spread_png"]),
            change_json=str(paths["change_json"]),
            change_results=shown_on_map,
        )
