"""AeroGen: the UNet's published size, the box layout on the one request, and the tiny variant."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadRequestError, ModelUnavailableError
from core.generation.request import MAX_BOXES, GenerationRequest, LayoutBox, parse_boxes
from core.geo import Point
from core.models.backends import check_available, load_backend
from core.models.backends.aerogen import DIOR_R_CLASSES, polygon_masks

SAHARA = Point(24.8, -11.4)
BOXES = [
    {"label": "airplane", "box": [0.1, 0.1, 0.5, 0.4]},
    {"label": "storagetank", "corners": [0.6, 0.6, 0.9, 0.65, 0.85, 0.9, 0.55, 0.85]},
]


def _request(**changes) -> GenerationRequest:
    fields = dict(point=SAHARA, month="2020-02", land_cover="Urban and Built-up Lands", size_px=64,
                  num_inference_steps=2, seed=1, country="Morocco", boxes=parse_boxes(BOXES))  # fmt: skip
    return GenerationRequest(**{**fields, **changes})


def test_the_unet_has_sd15_plus_the_published_extras():
    import torch
    from diffusers import UNet2DConditionModel

    from core.models.backends.aerogen_unet import SD15_UNET, AeroGenUNet, BoxEncoder

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    with torch.device("meta"):
        base, unet, encoder = UNet2DConditionModel(**SD15_UNET), AeroGenUNet(**SD15_UNET), BoxEncoder()
    assert count(base) == 859_520_964
    assert count(unet) == 905_606_724 and count(unet) - count(base) == 46_085_760
    assert count(unet.mask_attention) == 2_135_680  # the rest: control key/value in all 32 attentions
    controls = [n for n in unet.state_dict() if n.endswith(("to_k_control.weight", "to_v_control.weight"))]
    assert len(controls) == 64
    assert count(encoder.linears) == 1_115_904  # MLP 896 -> 512 -> 512 -> 768
    assert encoder.linears[0].in_features == 896


def test_box_layouts_parse_and_refuse_in_one_line():
    boxes = parse_boxes({"boxes": BOXES})
    assert boxes[0] == LayoutBox("airplane", (0.1, 0.1, 0.5, 0.1, 0.5, 0.4, 0.1, 0.4))
    assert boxes[1].corners[2:4] == (0.9, 0.65)
    for bad, message in (
        ([{"label": "ship", "box": [0.1, 0.2, 1.4, 0.5]}], "box corner 1.4 is outside 0..1"),
        ([{"label": "ship", "corners": [0.1, 0.2]}], "2 corner numbers, not 8"),
        ([{"box": [0, 0, 1, 1]}], "is not a box"),
        ({"objects": []}, "not a list of boxes"),
        ([{"label": "ship", "box": [0, 0, 1, 1]}] * (MAX_BOXES + 1), "more than 20"),
    ):
        with pytest.raises(BadRequestError, match=message) as refused:
            parse_boxes(bad)
        assert "\n" not in str(refused.value)


def test_polygon_masks_fill_the_rotated_boxes():
    masks = polygon_masks(parse_boxes(BOXES), 64)
    assert masks.shape == (20, 64, 64) and masks[2:].sum() == 0
    assert masks[0, 15, 15] == 1.0 and masks[0, 30, 40] == 0.0  # y 0.1..0.4, x 0.1..0.5
    assert masks[1, 48, 45] == 1.0 and masks[1, 10, 10] == 0.0
    assert masks[0].sum() == pytest.approx(0.4 * 0.3 * 64 * 64, rel=0.1)


@pytest.fixture(scope="module")
def tiny():
    from core.config import Settings

    return load_backend("tiny-aerogen", Settings())


def test_tiny_aerogen_draws_inside_its_layout(tiny):
    first = tiny.generate(_request())
    assert first.image.shape == (64, 64, 3)
    np.testing.assert_array_equal(first.image, tiny.generate(_request()).image)
    moved = parse_boxes([{"label": "airplane", "box": [0.5, 0.5, 0.9, 0.9]}])
    assert not np.array_equal(first.image, tiny.generate(_request(boxes=moved)).image)
    assert not np.array_equal(first.image, tiny.generate(_request(boxes=())).image)
    assert first.conditioning["boxes"][0]["label"] == "airplane"
    assert first.control_image.shape == (64, 64, 3) and first.control_image.max() == 255  # the drawn layout
    assert any("no licence" in w for w in first.warnings)
    assert "box layout" not in first.ignored
    with pytest.raises(BadRequestError, match="does not know the class"):
        tiny.generate(_request(boxes=(LayoutBox("castle", (0, 0, 1, 0, 1, 1, 0, 1)),)))


def test_the_mask_attention_runs_only_from_timestep_200(tiny, monkeypatch):
    unet = tiny.pipe.unet
    calls: list[int] = []
    original = unet.mask_attention.forward

    def record(x, categories, masks):
        calls.append(unet._timestep)
        return original(x, categories, masks)

    monkeypatch.setattr(unet.mask_attention, "forward", record)
    tiny.generate(_request(num_inference_steps=10))
    assert calls and min(calls) >= 200
    assert len(calls) < 10  # the last steps (t < 200) skip it


def test_other_generators_say_they_ignore_the_boxes():
    from core.models.backends import ignored_parts
    from core.models.backends.registry import BACKENDS

    assert "box layout" in ignored_parts(_request(), BACKENDS["diffusionsat-256"].uses)
    assert len(DIOR_R_CLASSES) == 20


def test_missing_weights_are_refused_in_one_line(settings):
    status = check_available("aerogen", settings)
    assert not status.available and "Sonetto702/AeroGen" in status.detail and "no licence" in status.detail
    with pytest.raises(ModelUnavailableError, match="No AeroGen unet/"):
        load_backend("aerogen", settings)


def test_a_recipe_keeps_the_boxes(tiny, settings, tmp_path):
    from core.models.spec import ModelSpec
    from core.services import export_image, generate, recipe_request

    result = generate(_request(model=ModelSpec("tiny-aerogen")), settings, engine=tiny)
    files = export_image(result, tmp_path / "a.png", recipe=tmp_path / "a.recipe.json")
    again = recipe_request(files.recipe)
    assert again.boxes == result.request.boxes
    np.testing.assert_array_equal(generate(again, settings, engine=tiny).image, result.image)
