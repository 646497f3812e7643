"""One base, many modes: text, img2img, inpainting and ControlNet share the loaded modules; switching
mode or ControlNet or the LoRA scale loads nothing twice; img2img, Canny and control ranges."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import BadRequestError, ModelUnavailableError
from core.generation.prompts import Prompts
from core.models.loading import LOAD_COUNTS, load_controlnet, load_pipeline
from core.models.model_cache import ModelCache
from core.models.spec import ModelSpec
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared
from tests.support.gen_tiny_weights import save_tiny_controlnet, save_tiny_lora

PROMPTS = Prompts(spatial="a satellite image of Croplands in Kenya on March 2021.", climate="")
REAL_PNG = ECOMAPPER_EXAMPLE / "2017-2018" / "1" / "1_2017-07.png"


def real_image(size: int = 64) -> np.ndarray:
    from PIL import Image

    with Image.open(require_shared(REAL_PNG)) as img:
        return np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))


@pytest.fixture(scope="module")
def extra_weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("mode_weights")
    return {"lora": save_tiny_lora(root / "lora"), "controlnet": save_tiny_controlnet(root / "controlnet")}


def _delta(before) -> dict[str, int]:
    return {key: LOAD_COUNTS[key] - before.get(key, 0) for key in ("base", "controlnet", "lora")}


def test_modes_and_controlnets_share_one_loaded_base(settings, extra_weights):
    cache = ModelCache(settings.with_(offline=True))
    before = dict(LOAD_COUNTS)
    spec = ModelSpec("tiny-random", lora=str(extra_weights["lora"]))
    loaded = cache.get(spec)
    assert _delta(before) == {"base": 1, "controlnet": 0, "lora": 1}

    pipelines = {mode: loaded.pipeline_for(mode) for mode in ("text", "img2img", "controlnet")}
    assert {type(p).__name__ for p in pipelines.values()} == {
        "StableDiffusion3Pipeline",
        "StableDiffusion3Img2ImgPipeline",
        "StableDiffusion3ControlNetPipeline",
    }  # inpainting (16 latent channels): tests/unit/test_gapfill.py
    assert all(loaded.shares_modules_with(p) for p in pipelines.values())
    assert loaded.pipeline_for("img2img") is pipelines["img2img"]  # built once

    # another ControlNet, back to the bundled one, then the other again, then a LoRA scale change
    other = ModelSpec("tiny-random", lora=str(extra_weights["lora"]), controlnet=str(extra_weights["controlnet"]))
    assert cache.get(other) is loaded and loaded.origins["controlnet"] == "path"
    bundled = loaded.controlnet_pipe.controlnet
    assert cache.get(spec) is loaded and loaded.controlnet_pipe.controlnet is not bundled
    assert cache.get(other) is loaded
    assert cache.get(ModelSpec(**{**other.as_dict(), "lora_scale": 0.25})) is loaded
    assert loaded.spec.lora_scale == 0.25
    assert _delta(before) == {"base": 1, "controlnet": 1, "lora": 1}
    assert loaded.shares_modules_with(loaded.pipeline_for("controlnet"))

    engine = cache.engine(spec)
    assert engine.loaded is loaded and cache.engine(other) is engine  # one engine (and embedding cache) per base

    # a different dtype is another base
    cache.get(ModelSpec("tiny-random", dtype="bfloat16"))
    assert _delta(before)["base"] == 2 and len(cache.loaded_bases()) == 1  # max_bases=1 dropped the first


def test_img2img_strength_zero_returns_the_vae_round_trip(settings):
    import torch

    from core.models.engine import Engine, FrameJob

    engine = Engine(load_pipeline(ModelSpec("tiny-random"), settings.with_(offline=True)))
    image = real_image(64)
    (out,), _ = engine.run_frames(
        [FrameJob(PROMPTS, 0, image)], mode="img2img", size_px=64, num_inference_steps=4, guidance_scale=1.0, strength=0
    )
    # independently: normalise to [-1, 1], encode, decode the posterior mean
    vae = engine.loaded.pipe.vae
    with torch.inference_mode():
        pixels = torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        decoded = vae.decode(vae.encode(pixels).latent_dist.mode()).sample[0]
    expected = ((decoded.permute(1, 2, 0).numpy() + 1.0) / 2.0).clip(0, 1) * 255.0
    assert np.abs(out.astype(np.float64) - expected).max() <= 1.0
    # a real img2img run with strength > 0 denoises and differs from the round trip
    (moved,), _ = engine.run_frames(
        [FrameJob(PROMPTS, 0, image)], mode="img2img", size_px=64, num_inference_steps=4, guidance_scale=1.0, strength=1
    )
    assert np.abs(moved.astype(int) - out.astype(int)).mean() > 1.0


def test_canny_edges_of_a_real_image():
    from skimage.feature import canny

    from core.models.control import canny_edges, control_tensor
    from core.models.registry import CONTROLNETS

    image = real_image(256)
    edges = canny_edges(image)
    assert edges.shape == image.shape and edges.dtype == np.uint8
    assert set(np.unique(edges)) <= {0, 255} and (edges[..., 0] == edges[..., 2]).all()
    share = (edges[..., 0] > 0).mean()
    assert 0.001 < share < 0.3  # a real landscape has edges, but is not all edges
    # the documented thresholds: lower ones find more edges, higher ones fewer
    grey = image.astype(float) @ np.array([0.299, 0.587, 0.114])
    assert canny(grey, 1.0, 50, 100).mean() > share > canny(grey, 1.0, 200, 400).mean()
    # the Canny ControlNet's input is the edge map in [-1, 1], never the raw image
    tensor = control_tensor(image, CONTROLNETS["instantx-canny"].profile)
    assert set(np.unique(tensor.numpy())) <= {-1.0, 1.0}
    tile = control_tensor(image, CONTROLNETS["instantx-tile"].profile)
    np.testing.assert_allclose(tile[0].permute(1, 2, 0).numpy(), image / 127.5 - 1.0, atol=1e-6)


def test_an_edge_controlnet_is_fed_edges_through_the_engine(settings):
    from core.models.engine import Engine, FrameJob
    from core.models.registry import ControlProfile

    loaded = load_pipeline(ModelSpec("tiny-random"), settings.with_(offline=True))
    loaded.controlnet_profile = ControlProfile("canny", 0.5)
    seen = []
    hook = loaded.pipe.vae.encoder.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().clone()))
    try:
        Engine(loaded).run_frames(
            [FrameJob(PROMPTS, 0, real_image(64))],
            mode="controlnet",
            size_px=64,
            num_inference_steps=1,
            guidance_scale=1.0,
        )
    finally:
        hook.remove()
    assert len(seen) == 1 and set(np.unique(seen[0].numpy())) <= {-1.0, 1.0}


@pytest.mark.parametrize(("model_id", "gated"), [("sd3-medium", True), ("sd3.5-medium", True), ("sd3.5-large", True)])
def test_registry_models_resolve_offline_to_download_first_errors(model_id, gated, settings, tmp_path):
    with pytest.raises(ModelUnavailableError) as caught:
        load_pipeline(ModelSpec(model_id), settings.with_(offline=True), hf_cache_dir=tmp_path / "hf")
    message = str(caught.value)
    assert "Download it first" in message and f"python -m core download --model {model_id}" in message
    assert ("is gated" in message and "accept its licence" in message) == gated


def test_known_controlnets_resolve_offline_and_check_their_base(settings, tmp_path):
    offline = settings.with_(offline=True)
    with pytest.raises(ModelUnavailableError) as caught:
        load_controlnet("instantx-canny", "sd3-medium", offline, hf_cache_dir=tmp_path / "hf")
    message = str(caught.value)
    assert "python -m core download --controlnet instantx-canny" in message and "gated" not in message
    assert "checkpoints/instantx-canny" in message  # where to put a copied folder
    with pytest.raises(BadRequestError, match="made for sd3-medium"):
        load_controlnet("instantx-tile", "sd3.5-large", offline, hf_cache_dir=tmp_path / "hf")


def test_img2img_requests():
    from core.generation.request import GenerationRequest
    from core.geo import Month, Point

    base = dict(point=Point(-1.3, 36.8), month=Month.parse("2021-03"), land_cover="Croplands", size_px=64)
    request = GenerationRequest(**base, mode="img2img", strength=0.3)
    assert request.strength == 0.3 and request.control_month is None  # starts from the month's own image
    GenerationRequest(**base, mode="img2img", control_image=real_image(64))
    with pytest.raises(BadRequestError, match="strength"):
        GenerationRequest(**base, mode="img2img", strength=1.5)
    with pytest.raises(BadRequestError, match="after the month"):
        GenerationRequest(**base, mode="img2img", control_month=Month.parse("2021-05"))
    with pytest.raises(BadRequestError, match="start image"):
        GenerationRequest(**base, mode="img2img", control_image=real_image(32))


def test_img2img_evaluation_starts_from_the_previous_real_month(tmp_path):
    from core.dataset.reader import read_dataset
    from core.evaluation.run import EvaluationConfig, select_samples

    data = require_shared(ECOMAPPER_EXAMPLE / "2017-2018")
    config = EvaluationConfig("tiny-random", data, tmp_path, img2img_strength=0.5, limit=5)
    assert config.mode == "img2img"
    pairs, _ = select_samples(read_dataset(data), config)
    assert len(pairs) == 5 and all(control is not None and control.month < s.month for s, control in pairs)
    with pytest.raises(BadRequestError, match="one mode"):
        EvaluationConfig("tiny-random", data, tmp_path, img2img_strength=0.5, controlnet_previous=True)
