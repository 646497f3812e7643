"""The app's quick preview: with the model's few-step preview LoRA in the checkpoints folder, Generate
shows the preview first and then the full image from the same seed; without it nothing changes.
The decision (`core.services.preview_plan`) and the full image at LoRA scale 0 (the base model's
pixels) with the tiny model; the two-step answer through `/generate` on the running app."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Settings
from core.geo import Point
from core.services import ModelSpec, generate, preview_hint, preview_plan, with_preview_base
from tests.support.tiny_generation import tiny_generation_request

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword"),
]


@pytest.fixture(scope="module")
def with_preview_lora(tmp_path_factory):
    """Settings whose checkpoints folder holds the tiny model's preview LoRA where its preset looks."""
    from tests.support.gen_tiny_weights import save_tiny_lora

    checkpoints = tmp_path_factory.mktemp("checkpoints")
    save_tiny_lora(checkpoints / "tiny-preview")
    return Settings.from_env().with_(checkpoints_dir=checkpoints)


def test_a_preview_is_planned_only_where_its_lora_is_and_no_other_lora_runs(with_preview_lora, tmp_path):
    spec = ModelSpec("tiny-random")
    plan = preview_plan(spec, "text", with_preview_lora)
    lora_file = str(with_preview_lora.checkpoints_dir.resolve() / "tiny-preview" / "pytorch_lora_weights.safetensors")
    assert (plan.preview_spec.lora, plan.preview_spec.lora_scale, plan.full_spec.lora_scale) == (
        lora_file,
        1.0,
        0.0,
    )
    assert preview_plan(spec, "controlnet", with_preview_lora) is not None
    empty = with_preview_lora.with_(checkpoints_dir=tmp_path)
    assert preview_plan(spec, "text", empty) is None
    assert "put pytorch_lora_weights.safetensors" in preview_hint("tiny-random", empty)
    assert preview_plan(ModelSpec("tiny-random", lora="mine"), "text", with_preview_lora) is None
    assert preview_plan(spec, "img2img", with_preview_lora) is None
    # every mode loads the same base (the LoRA at scale 0), so a preview never costs a second load
    assert with_preview_base(spec, with_preview_lora) == plan.full_spec
    assert with_preview_base(spec, empty) == spec
    assert preview_plan(ModelSpec("tiny-diffusionsat"), "text", with_preview_lora) is None
    assert "No quick preview for tiny-diffusionsat" in preview_hint("tiny-diffusionsat", with_preview_lora)
    assert preview_hint("tiny-random", with_preview_lora).startswith("Quick preview on: a 2-step image")


def test_the_full_image_beside_a_preview_is_the_plain_models_same_seed(with_preview_lora):
    settings = with_preview_lora
    request = tiny_generation_request(point=Point(-1.5, 36.8), model=ModelSpec("tiny-random"), num_inference_steps=3,
                                      guidance_scale=4.0)  # fmt: skip
    plan = preview_plan(request.model, "text", settings)
    plain = generate(request, settings).image
    full = generate(plan.full_request(request), settings).image
    preview = generate(plan.preview_request(request), settings)
    assert np.array_equal(full, plain)  # LoRA scale 0: the base model's pixels, byte for byte
    assert preview.request.seed == request.seed and preview.request.num_inference_steps == 2
    assert not np.array_equal(preview.image, plain)


def test_generate_answers_twice_preview_first(test_rasters, tmp_path):
    from gradio_client import Client

    from tests.support.app_harness import running_app
    from tests.support.gen_tiny_weights import save_tiny_lora
    from tests.support.replay_fixtures import REAL, settings_for, start_replay_server

    if not REAL.exists():
        pytest.skip(f"shared fixture {REAL} is not present")
    server = start_replay_server(REAL, test_rasters)
    save_tiny_lora(tmp_path / "checkpoints" / "tiny-preview")
    settings = settings_for(server, tmp_path / "cache", checkpoints_dir=tmp_path / "checkpoints")
    try:
        with running_app(settings, "tiny-random", tmp_path / "outputs") as app:
            from core.models.loading import LOAD_COUNTS

            client = Client(app.url, verbose=False, download_files=str(tmp_path / "downloads"))
            before = dict(LOAD_COUNTS)
            job = client.submit(**_form_values(), api_name="/generate")
            final = job.result()
            answers = job.outputs()
            loads = {part: LOAD_COUNTS[part] - before.get(part, 0) for part in ("base", "lora")}
    finally:
        server.stop()
    assert len(answers) == 2 and answers[-1] == final
    assert loads == {"base": 1, "lora": 1}  # preview and full image from one loaded base
    preview_path, full_path = answers[0][0], final[0]
    import imageio.v3 as iio

    preview, full = iio.imread(preview_path), iio.imread(full_path)
    assert not np.array_equal(preview, full)
    assert final[3]  # the full answer carries the metrics; the preview left them as they were
    assert answers[0][1:] == tuple([{"__type__": "update"}] * (len(final) - 1))  # only the scenario image


def _form_values() -> dict:
    from tests.integration import test_app_api

    return dict(
        lat=test_app_api.LAT, lon=test_app_api.LON, month=test_app_api.MONTH, land_cover="Barren or Sparsely Vegetated",
        cloud_pct=0.0, temp_c=20.0, precip_mm_day=0.5, solar_mj_m2_day=20.0, temp_delta_c=0.0, precip_pct=0.0,
        mode="text", control_months_before=1, **test_app_api.FAST,
    )  # fmt: skip
