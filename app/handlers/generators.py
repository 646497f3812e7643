"""The Generators tab (issue 22): every generator with what it ignores and its licence status, one generator run
on the picked place (AeroGen with a box layout drawn in a small form, COP-GEN with its NDVI map)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import formatting
from app.errors import shown_errors
from app.forms import ModelsForm, read_number
from app.handlers import requests
from app.handlers.context import AppContext, progress_bridge
from app.handlers.models import allowed_backend_ids
from app.handlers.projection import ProjectionHandlers
from core import services
from core.errors import BadRequestError

GENERATOR_FIELDS = (*ModelsForm.FIELDS, "generator_id", "layout_json", "source_month", "source_strength")
BOX_FIELDS = ("layout_json", "box_class", "box_corners")


@dataclass(frozen=True)
class GeneratorShown:
    """The `/generator` endpoint's outputs, in order."""

    generator_image: Any
    generator_ndvi: str | None
    generator_files: list[str]
    generator_note: str


def catalog_markdown(settings, tiny: bool) -> str:
    """Every generator: what it never reads and its licence status (the tiny ones too on a tiny server)."""
    # the real generators last, nearest the eye after scrolling: their licences are what matters
    rows = (services.generator_catalog(settings, tiny=True) if tiny else []) + services.generator_catalog(settings)
    lines = ["| Generator | Ignores | Licence |", "|---|---|---|"]
    lines += [f"| {row['id']}{_optional(row)} | {', '.join(row['ignores']) or 'nothing'} | {row['licence']} |"
              for row in rows]  # fmt: skip
    return "\n".join(lines)


def _optional(row: dict) -> str:
    """The catalog's " (optional extra: `pip install ...`)" for a generator on an optional library, else ""."""
    return f" (optional extra: `{row['needs']}`)" if row["needs"] else ""


def generator_note(generator_id: str, settings) -> str:
    """One line on the picked generator: what it reads, ignores and its licence status."""
    for tiny in (False, True):
        for row in services.generator_catalog(settings, tiny=tiny):
            if row["id"] == generator_id:
                extra = " Draw its boxes below." if row["layout"] else ""
                if row["bands"]:
                    extra += " NDVI map from its near-infrared band"
                    extra += "; redraws real scenes too." if row["redraws_real"] else "."
                if row["needs"] and not row["available"]:
                    extra += f" Not installed here: `{row['needs']}`."
                # the box layout is ignored by all but AeroGen, whose note says to draw them: not repeated here
                ignores = [part for part in row["ignores"] if part != "box layout"]
                return (f"**{row['id']}**: ignores {', '.join(ignores) or 'nothing'}. "
                        f"Licence: {row['licence']}.{extra}")  # fmt: skip
    return ""


def read_layout(text: Any) -> list[dict[str, Any]]:
    """The layout JSON (the CLI's `--layout-json` format) as a list of boxes; empty text is no box."""
    raw = str(text or "").strip()
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise BadRequestError(f"The box layout is not JSON ({err.msg}).", "Clear it and add the boxes again.") from err
    services.parse_boxes(data)  # the same checks as the CLI: labels, 4 or 8 numbers 0..1, at most 20
    return data.get("boxes") if isinstance(data, dict) else data


@shown_errors
def add_box(layout_json: Any, box_class: Any, box_corners: Any) -> dict:
    """One more box, "x min, y min, x max, y max" as fractions of the image (y down), in the layout JSON."""
    raw = str(box_corners or "")
    # as the grid's lists: decimal commas need ';' between the numbers
    parts = [p for p in (raw.split(";") if ";" in raw else raw.split(",")) if p.strip()]
    if len(parts) != 4:
        raise BadRequestError(f"The box {box_corners!r} is not 4 numbers.", "Write x min, y min, x max, y max (0..1).")
    x0, y0, x1, y1 = numbers = [read_number(part, "box corner") for part in parts]
    if not (x0 < x1 and y0 < y1):
        raise BadRequestError(f"The box {numbers} is empty.", "Give x min < x max and y min < y max (0..1).")
    boxes = [*read_layout(layout_json), {"label": str(box_class or ""), "box": numbers}]
    services.parse_boxes(boxes)
    return {"layout_json": json.dumps(boxes)}


def from_real_scene(
    request: services.GenerationRequest, source_month: Any, strength: Any
) -> services.GenerationRequest:
    """img2img from the real scene of `source_month` (COP-GEN: "this place, other season"); blank: unchanged."""
    month = str(source_month or "").strip()
    if not month:
        return request
    return request.replace(mode="img2img", control_month=month, strength=read_number(strength, "strength"))


class GeneratorHandlers:
    """The Generators tab (and `/generator`): one peer generator on the Models form's place, month and scenario."""

    def __init__(self, context: AppContext, projection: ProjectionHandlers) -> None:
        self.context = context
        self.projection = projection

    def tab_inputs(self) -> tuple[list[str], tuple[str, ...], str, str]:
        """(generator choices, box classes, the catalog table, the first choice's line) for laying out the tab."""
        settings, model_id = self.context.settings, self.context.config.model_id
        allowed, _ = allowed_backend_ids(settings, model_id)
        here = {row["id"] for tiny in (False, True) for row in services.generator_catalog(settings, tiny=tiny)
                if row["available"]}  # fmt: skip
        # what runs here first, then the layout and multispectral generators: what this tab adds to the Models tab
        added = ("aerogen", "copgen", "zoomldm", "terramind")
        ordered = sorted(allowed, key=lambda bid: (bid not in here, not any(k in bid for k in added)))
        first = generator_note(ordered[0], settings) if ordered else ""
        return ordered, services.layout_classes(), catalog_markdown(settings, formatting.is_noise(model_id)), first

    def note(self, generator_id: Any) -> dict:
        """The picked generator's line; the box form opens for a layout generator (AeroGen)."""
        picked = str(generator_id or "")
        return {"generator_note": generator_note(picked, self.context.settings),
                "box_layout": gr.update(open="aerogen" in picked)}  # fmt: skip

    @shown_errors
    def run_generator(self, request: gr.Request, progress: gr.Progress, **values: Any) -> GeneratorShown:
        form = ModelsForm.parse(values)
        settings = self.context.settings
        generator_id = str(values.get("generator_id") or "")
        allowed, refused = allowed_backend_ids(settings, self.context.config.model_id)
        if generator_id not in allowed:
            why = dict(refused).get(generator_id, "not a generator this server runs")
            raise BadRequestError(f"{generator_id or 'No generator'}: {why}.", "Pick one of the list.")
        boxes = services.parse_boxes(read_layout(values.get("layout_json")))
        size = next(r["size_px"] for tiny in (False, True) for r in services.generator_catalog(settings, tiny=tiny)
                    if r["id"] == generator_id)  # fmt: skip
        scenario = self.projection.scenario_for(form, progress)
        base = requests.backend_request(form, services.place_of(form.point, settings), scenario)
        core_request = base.replace(model=services.ModelSpec(generator_id), size_px=size, boxes=boxes)
        core_request = from_real_scene(core_request, values.get("source_month"), values.get("source_strength"))
        with self.context.cancellable(request) as cancel:
            result = services.generate(core_request, settings, progress=progress_bridge(progress), cancel=cancel)
        folder = self.context.output_folder(request)
        stem = formatting.safe_filename(
            formatting.point_stem(form.point.lat, form.point.lon), str(form.month), generator_id, f"seed{form.seed}"
        )
        files = services.export_image(result, folder / f"{stem}.png", recipe=folder / f"{stem}.recipe.json",
                                      geotiff=folder / f"{stem}.tif", settings=settings)  # fmt: skip
        ndvi = services.write_ndvi_preview(result, folder / f"{stem}.ndvi.png")
        written = [files.png, files.geotiff, files.ndvi, *files.maps.values(), files.recipe]
        note = generator_note(generator_id, settings)
        source = (result.model_info or {}).get("conditioning", {}).get("source_scene")
        if source:  # img2img from a real scene: say which scene and date it started from
            note = (f"Started from the real scene {source['scene_id']} of {source['acquired'][:10]} "
                    f"(strength {source['strength']:g}). {note}")  # fmt: skip
        return GeneratorShown(
            generator_image=services.label_image(result.image, result.label, ()),
            generator_ndvi=str(ndvi) if ndvi else None,
            generator_files=[str(path) for path in written if path],
            generator_note=note,
        )
