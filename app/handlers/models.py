"""Models side by side: the same place and month from every generator whose weights are here,
next to the real image, with the metrics, as one downloadable sheet (issue 11)."""

from __future__ import annotations

import gradio as gr

from app import formatting
from app.endpoints import form_endpoint
from app.errors import shown_errors
from app.forms import ObservedClimateForm, read_int, read_month, read_number_or, read_point, read_scenario, read_text
from core import services
from core.climate.values import ClimateValues
from core.errors import BadRequestError

MODELS_FIELDS = (
    "lat", "lon", "month", "land_cover", "cloud_pct", "temp_c", "precip_mm_day", "solar_mj_m2_day",
    "temp_delta_c", "precip_pct", "seed",
)  # fmt: skip


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


def _metrics_table(comparison) -> str:
    names = sorted({name for item in comparison.images for name in item.metrics})
    head = "| Model | s | " + " | ".join(n.upper() for n in names) + (" | " if names else "") + "Ignores |"
    rule = "|---|---|" + "---|" * len(names) + "---|"
    rows = []
    for item in comparison.images:
        values = " | ".join(f"{item.metrics[n]:.3g}" if n in item.metrics else "–" for n in names)
        ignored = ", ".join(item.ignored) or "nothing"
        rows.append(f"| {item.backend_id} | {item.seconds:g} | {values}{' | ' if names else ''}{ignored} |")
    real = f"Real image: {comparison.real_note}." + ("" if names else " No metrics without a real image.")
    return "\n".join([real, "", head, rule, *rows]) if rows else real


def _missing_list(comparison, refused: list[tuple[str, str]]) -> str:
    lines = [f"- **{bid}** is not here: {how}" for bid, how in comparison.unavailable]
    lines += [f"- **{bid}** is {how}" for bid, how in refused]
    if lines:
        lines.insert(0, "Not on this server, and how to get them:\n")
    lines += [f"- **{bid}** failed: {message}" for bid, message in comparison.failed]
    lines += [f"- Map data {credit}" for credit in comparison.attributions]
    return "\n".join(lines) or "Every model this server allows is here."


class ModelsHandlers:
    """Mixed into `Handlers`."""

    @shown_errors
    def _compare_models(self, values: dict, request: gr.Request, progress) -> tuple:
        """Returns (sheet PNG, metrics table, unavailable models with how to get them, sheet to download)."""
        land_cover = read_text(values.get("land_cover"))
        if not land_cover:
            raise BadRequestError("No land cover is chosen.", "Observe the place to look it up, or choose one.")
        point = read_point(values.get("lat"), values.get("lon"))
        month = read_month(values.get("month"))
        observed = ObservedClimateForm.read(values.get("temp_c"), values.get("precip_mm_day"),
                                            values.get("solar_mj_m2_day"))  # fmt: skip
        climate = (
            ClimateValues(observed.temp_c, observed.precip_mm_day, observed.solar_mj_m2_day)  # type: ignore[arg-type]
            if observed.complete
            else None
        )
        scenario = read_scenario(values.get("temp_delta_c"), values.get("precip_pct"))
        cloud_pct = read_number_or(values.get("cloud_pct"), "cloud cover", 0.0)
        place = services.place_of(point, self.settings)
        backend_request = services.GenerationRequest(
            point=point,
            month=month,
            land_cover=land_cover,
            cloud_fraction=min(max(cloud_pct, 0.0), 100.0) / 100.0,
            observed_climate=climate,
            scenario=scenario if climate is not None else services.Scenario.today(),
            seed=read_int(values.get("seed"), "seed", default=0),
            num_inference_steps=None,  # each generator's own
            guidance_scale=None,
            state=place.state,
            country=place.country or "",
        )
        ids, refused = allowed_backend_ids(self.settings, self.config.model_id)
        with self.cancellable(request) as cancel:
            comparison = services.compare_models(
                backend_request, self.settings, ids, progress=self.progress_bridge(progress), cancel=cancel
            )
        stem = formatting.safe_filename(
            formatting.point_stem(point.lat, point.lon), str(month), "models", f"seed{backend_request.seed}"
        )
        path = services.write_comparison_sheet(comparison, self.output_folder(request) / f"{stem}.png")
        return str(path), _metrics_table(comparison), _missing_list(comparison, refused), str(path)


def models_endpoint(handlers):
    return form_endpoint(MODELS_FIELDS, handlers._compare_models, "compare_models")


__all__ = ["MODELS_FIELDS", "ModelsHandlers", "allowed_backend_ids", "models_endpoint"]
