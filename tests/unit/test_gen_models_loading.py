"""Loading models the way users do: local folders, checkpoints/, the Hugging Face cache, a (local) Hub."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.cli import main
from core.errors import BadRequestError, ModelUnavailableError
from core.models import ModelSpec, load_pipeline
from core.models.loading import T5_DROPPED_WARNING, download_model
from tests.support.gen_fake_hub import FakeHub
from tests.support.gen_tiny_weights import save_tiny_controlnet, save_tiny_lora, save_tiny_pipeline

PROMPT = "a satellite image of Croplands in Kenya on March 2021."


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_weights")
    return {
        "pipe": save_tiny_pipeline(root / "pipe"),
        "lora": save_tiny_lora(root / "lora"),
        "controlnet": save_tiny_controlnet(root / "controlnet"),
    }


@pytest.fixture
def hub_online(monkeypatch):
    """Let huggingface_hub talk to the local fake Hub (the network guard sets HF_HUB_OFFLINE=1)."""
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def run(loaded, mode="text", **extra) -> np.ndarray:
    import torch

    pipe = loaded.pipeline_for(mode)
    generator = torch.Generator().manual_seed(0)
    out = pipe(PROMPT, height=64, width=64, num_inference_steps=2, generator=generator, output_type="np", **extra)
    return out.images[0]


def test_local_folder_matches_the_in_code_model(weights, settings):
    offline = settings.with_(offline=True)
    from_folder = load_pipeline(ModelSpec(str(weights["pipe"])), offline)
    assert from_folder.origins == {"model": "path"} and not from_folder.is_tiny and not from_folder.has_controlnet
    built = load_pipeline(ModelSpec("tiny-random"), offline)
    assert built.is_tiny and any("noise" in w for w in built.warnings)
    np.testing.assert_array_equal(run(from_folder), run(built))


def test_lora_changes_output_and_scale_zero_restores_it(weights, settings):
    offline = settings.with_(offline=True)
    base = run(load_pipeline(ModelSpec(str(weights["pipe"])), offline))
    with_lora = load_pipeline(ModelSpec(str(weights["pipe"]), lora=str(weights["lora"])), offline)
    assert with_lora.origins["lora"] == "path"
    changed = run(with_lora)
    assert np.abs(changed - base).max() > 0.01
    with_lora.set_lora_scale(0.0)
    np.testing.assert_array_equal(run(with_lora), base)
    with_lora.set_lora_scale(1.0)
    np.testing.assert_array_equal(run(with_lora), changed)
    lora_file = weights["lora"] / "pytorch_lora_weights.safetensors"
    off = load_pipeline(ModelSpec(str(weights["pipe"]), lora=str(lora_file), lora_scale=0.0), offline)
    np.testing.assert_array_equal(run(off), base)


def test_controlnet_from_folder_and_from_transformer_round_trips(weights, settings, tmp_path):
    from diffusers import SD3ControlNetModel, SD3Transformer2DModel

    from core.models.tiny import build_controlnet_from_transformer, build_tiny_transformer

    loaded = load_pipeline(ModelSpec(str(weights["pipe"]), controlnet=str(weights["controlnet"])), settings)
    assert loaded.origins["controlnet"] == "path"
    rng = np.random.default_rng(0)
    control_a = (rng.random((64, 64, 3)) * 255).astype(np.uint8)
    control_b = 255 - control_a
    from PIL import Image

    image_a = run(loaded, "controlnet", control_image=Image.fromarray(control_a))
    image_b = run(loaded, "controlnet", control_image=Image.fromarray(control_b))
    assert image_a.shape == (64, 64, 3) and np.abs(image_a - image_b).max() > 0.01

    # the trap: from_transformer edits the transformer's config; both must still reload
    transformer = build_tiny_transformer(seed=4)
    controlnet = build_controlnet_from_transformer(transformer, num_layers=1)
    transformer.save_pretrained(tmp_path / "transformer")
    controlnet.save_pretrained(tmp_path / "controlnet")
    reloaded = SD3Transformer2DModel.from_pretrained(tmp_path / "transformer")
    assert reloaded.config.num_layers == 2
    for key, value in transformer.state_dict().items():
        assert np.array_equal(reloaded.state_dict()[key].numpy(), value.numpy()), key
    reloaded_cn = SD3ControlNetModel.from_pretrained(tmp_path / "controlnet")
    assert reloaded_cn.config.num_layers == 1 and reloaded_cn.config.extra_conditioning_channels == 0


def test_mismatched_controlnet_is_refused(weights, settings, tmp_path):
    from diffusers import SD3ControlNetModel

    other = SD3ControlNetModel(
        sample_size=64,
        patch_size=2,
        in_channels=4,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=2,
        joint_attention_dim=16,
        caption_projection_dim=16,
        pooled_projection_dim=64,
        out_channels=4,
    )
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(ModelUnavailableError, match="does not fit this base model"):
        load_pipeline(ModelSpec(str(weights["pipe"]), controlnet=str(tmp_path / "other")), settings)


def test_checkpoints_folder_is_searched(weights, settings):
    shutil.copytree(weights["pipe"], settings.checkpoints_dir / "someone--tiny-sd3")
    loaded = load_pipeline(ModelSpec("someone/tiny-sd3"), settings.with_(offline=True))
    assert loaded.origins == {"model": "checkpoints"}


def test_download_from_hub_then_hf_cache_offline(weights, settings, tmp_path, hub_online):
    repo = tmp_path / "repo"
    shutil.copytree(weights["pipe"], repo)
    (repo / "single_file_checkpoint.safetensors").write_bytes(b"\0" * 4096)  # must not be fetched
    cache = tmp_path / "hf"
    reports = []
    with FakeHub("someone/tiny-sd3", repo) as hub:
        online = settings.with_(hf_endpoint=hub.url)
        found = download_model("someone/tiny-sd3", online, progress=lambda *a: reports.append(a), hf_cache_dir=cache)
        assert found.origin == "download"
        assert not any("single_file" in line for line in hub.requests)
    assert reports and reports[-1][0] == reports[-1][1] > 0
    assert not list(cache.rglob("single_file_checkpoint.safetensors"))
    loaded = load_pipeline(ModelSpec("someone/tiny-sd3"), settings.with_(offline=True), hf_cache_dir=cache)
    assert loaded.origins == {"model": "hf-cache"}
    np.testing.assert_array_equal(run(loaded), run(load_pipeline(ModelSpec(str(weights["pipe"])), settings)))


def test_gated_model_says_token_and_licence(weights, settings, tmp_path, hub_online):
    gated_repo = "stabilityai/stable-diffusion-3-medium-diffusers"
    with FakeHub(gated_repo, weights["pipe"], gated=True) as hub, pytest.raises(ModelUnavailableError) as caught:
        download_model("sd3-medium", settings.with_(hf_endpoint=hub.url), hf_cache_dir=tmp_path / "hf")
    message = str(caught.value)
    assert "gated" in message and "licence" in message and "HF_TOKEN" in message
    assert "https://huggingface.co/stabilityai/stable-diffusion-3-medium-diffusers" in message
    assert not (tmp_path / "hf").exists() or not list((tmp_path / "hf").rglob("*.safetensors"))


def test_offline_missing_weights_is_a_clear_error(settings, tmp_path):
    with pytest.raises(ModelUnavailableError, match="offline mode is on.*python -m core download --model sd3-medium"):
        load_pipeline(ModelSpec("sd3-medium"), settings.with_(offline=True), hf_cache_dir=tmp_path / "hf")
    assert not settings.checkpoints_dir.exists() or not any(settings.checkpoints_dir.iterdir())


def test_incomplete_folder_is_named(weights, tmp_path, settings):
    broken = tmp_path / "broken"
    shutil.copytree(weights["pipe"], broken)
    for weight_file in (broken / "transformer").glob("*.safetensors"):
        weight_file.unlink()
    with pytest.raises(ModelUnavailableError, match="incomplete: missing transformer weights"):
        load_pipeline(ModelSpec(str(broken)), settings)


def test_not_sd3_folder(tmp_path, settings):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionXLPipeline"}))
    with pytest.raises(ModelUnavailableError, match="not Stable Diffusion 3"):
        load_pipeline(ModelSpec(str(tmp_path)), settings)


def test_options(settings, weights):
    with pytest.raises(BadRequestError, match="Unknown model"):
        load_pipeline(ModelSpec("sd4-ultra"), settings)
    with pytest.raises(BadRequestError, match="CPU offload needs a CUDA GPU"):
        load_pipeline(ModelSpec("tiny-random", cpu_offload=True, device="cpu"), settings)
    with pytest.raises(BadRequestError, match="^Sequential CPU offload needs a CUDA GPU.*--sequential-offload"):
        load_pipeline(ModelSpec("tiny-random", sequential_offload=True, device="cpu"), settings)
    with pytest.raises(BadRequestError, match=r"^A quantised T5 \(bitsandbytes\) needs a CUDA GPU"):
        load_pipeline(ModelSpec("tiny-random", t5_quantization="8bit", device="cpu"), settings)
    with pytest.raises(BadRequestError, match="Unknown T5 quantization '2bit'"):
        ModelSpec("tiny-random", t5_quantization="2bit")
    with pytest.raises(BadRequestError, match="Quantise T5 or drop it"):
        ModelSpec("tiny-random", t5_quantization="4bit", drop_t5=True)
    with pytest.raises(BadRequestError, match="Pick one"):
        ModelSpec("tiny-random", sequential_offload=True, cpu_offload=True)
    with pytest.raises(BadRequestError, match="float16 was asked for on the CPU"):
        load_pipeline(ModelSpec("tiny-random", dtype="float16", device="cpu"), settings)
    with pytest.raises(BadRequestError, match="CUDA"):
        load_pipeline(ModelSpec("tiny-random", device="cuda"), settings)
    with pytest.raises(BadRequestError, match="LoRA scale"):
        ModelSpec("tiny-random", lora_scale=float("nan"))
    no_controlnet = load_pipeline(ModelSpec(str(weights["pipe"])), settings)
    with pytest.raises(BadRequestError, match="without a ControlNet"):
        no_controlnet.pipeline_for("controlnet")


def test_without_t5_warns_and_still_generates(settings):
    loaded = load_pipeline(ModelSpec("tiny-random", drop_t5=True), settings)
    assert not loaded.has_t5 and T5_DROPPED_WARNING in loaded.warnings
    assert "climate prompt" in T5_DROPPED_WARNING
    assert run(loaded).shape == (64, 64, 3)


def test_bfloat16_on_cpu(settings):
    import torch

    loaded = load_pipeline(ModelSpec("tiny-random", dtype="bfloat16"), settings)
    assert loaded.pipe.transformer.dtype == torch.bfloat16


def test_download_command(weights, settings, tmp_path, monkeypatch, capsys, hub_online):
    with FakeHub("someone/tiny-sd3", weights["pipe"]) as hub:
        monkeypatch.setenv("ECOMAPPER_HF_ENDPOINT", hub.url)
        monkeypatch.setenv("ECOMAPPER_CHECKPOINTS_DIR", str(tmp_path / "ck"))
        code = main(["download", "--model", "someone/tiny-sd3", "--hf-cache-dir", str(tmp_path / "hf")])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"]["origin"] == "download"
    assert (tmp_path / "hf").as_posix() in printed["model"]["path"]
    code = main(["--offline", "download", "--model", "sd3-medium", "--hf-cache-dir", str(tmp_path / "empty")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The model sd3-medium is not on this machine") and err.count("\n") == 1
