"""End-to-end training runs with the tiny random SD3 on real EcoMapper samples (CPU, 64 px)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from core.train import TrainConfig, train
from core.train.run_files import complete_checkpoints, read_loss_log
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared

pytestmark = pytest.mark.slow


def _config(tmp_path, name: str = "run", **changes) -> TrainConfig:
    data_dir = require_shared(ECOMAPPER_EXAMPLE) / "2017-2018"
    raw = {
        "mode": "lora",
        "base_model": "tiny-random",
        "output_dir": str(tmp_path / name),
        "seed": 0,
        "data": {"data_dir": str(data_dir), "resolution_px": 64, "max_sequence_length": 128},
        "optim": {"learning_rate": 1e-2, "batch_size": 2, "max_steps": 4},
        "lora": {"rank": 4, "alpha": 4.0},
        "checkpoints": {"every_steps": 0, "resume": "none"},
    }
    config = TrainConfig.from_dict(raw)
    return config.with_overrides(**changes) if changes else config


def _generate(pipe, seed: int = 3) -> np.ndarray:
    import torch

    return pipe(
        prompt="a satellite image of Evergreen Needleleaf Forests in British Columbia, Canada on July 2017.",
        num_inference_steps=2,
        height=64,
        width=64,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
    ).images[0]


def test_lora_lowers_the_loss_on_a_fixed_batch_and_the_adapter_changes_generation(tmp_path, settings):
    from core.models import ModelSpec, load_pipeline

    # A fixed batch: the same two real images and full prompts every step (noise and timesteps vary).
    config = _config(
        tmp_path,
        data__max_samples=2,
        data__caption_preset="fixed_caption",
        optim__max_steps=30,
        validation__every_steps=15,
        validation__num_images=1,
        validation__num_inference_steps=2,
    )
    result = train(config, settings.with_(device="cpu"))
    losses = [loss for _, loss in result.losses]
    assert [step for step, _ in result.losses] == list(range(1, 31))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert read_loss_log(result.loss_csv) == [(step, pytest.approx(loss, abs=1e-5)) for step, loss in result.losses]
    assert [p.name for p in result.validation_images] == ["step-00000015-0.png", "step-00000030-0.png"]
    assert (result.weights_dir / "pytorch_lora_weights.safetensors").is_file()

    base = load_pipeline(ModelSpec("tiny-random", device="cpu", dtype="float32"), settings)
    tuned = load_pipeline(
        ModelSpec("tiny-random", lora=str(result.weights_dir), device="cpu", dtype="float32"), settings
    )
    base_image, tuned_image = _generate(base.pipe), _generate(tuned.pipe)
    assert base_image.shape == tuned_image.shape == (64, 64, 3)
    assert float(np.abs(base_image - tuned_image).mean()) > 1e-3


def test_resume_continues_the_step_count_with_the_same_losses(tmp_path, settings):
    cpu = settings.with_(device="cpu")
    straight = train(_config(tmp_path, "straight", optim__max_steps=6), cpu)
    first = train(_config(tmp_path, "resumed", optim__max_steps=3, checkpoints__every_steps=3), cpu)
    assert [p.name for p in complete_checkpoints(first.output_dir)] == ["checkpoint-00000003"]
    second = train(_config(tmp_path, "resumed", optim__max_steps=6, checkpoints__resume="latest"), cpu)
    assert second.start_step == 3 and second.final_step == 6
    assert [step for step, _ in second.losses] == [4, 5, 6]
    resumed = [loss for _, loss in first.losses + second.losses]
    assert resumed == pytest.approx([loss for _, loss in straight.losses], abs=1e-6)
    with second.loss_csv.open() as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == [1, 2, 3, 4, 5, 6]


def test_cached_latents_and_embeddings_give_the_same_loss(tmp_path, settings):
    cpu = settings.with_(device="cpu")
    plain = train(_config(tmp_path, "plain", optim__max_steps=4, data__max_samples=6), cpu)
    both = dict(optim__max_steps=4, data__max_samples=6, cache_latents=True, cache_text_embeddings=True)
    cached = train(_config(tmp_path, "cached", **both), cpu)
    assert [loss for _, loss in cached.losses] == pytest.approx([loss for _, loss in plain.losses], rel=1e-4)
    latents_only = train(_config(tmp_path, "latents", optim__max_steps=4, data__max_samples=6, cache_latents=True), cpu)
    assert [loss for _, loss in latents_only.losses] == pytest.approx([loss for _, loss in plain.losses], rel=1e-4)
    assert not (latents_only.output_dir / "cache" / "text").exists()  # text embeddings recomputed per step
    cache_dir = cached.output_dir / "cache"
    # one latent per training image, and the 12 date/location variants of skip_date_location per prompt
    assert len(list((cache_dir / "latents").glob("*.safetensors"))) == 6
    assert len(list((cache_dir / "text").glob("*.safetensors"))) == 6 * 12
    # a second run finds everything on disk and computes nothing
    stamps = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*.safetensors")}
    again_config = _config(tmp_path, "again", **{**both, "optim__max_steps": 2})
    again = train(again_config.with_overrides(cache_dir=str(cache_dir)), cpu)
    assert {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*.safetensors")} == stamps
    assert [loss for _, loss in again.losses] == pytest.approx([loss for _, loss in plain.losses[:2]], rel=1e-4)


def test_controlnet_step_saves_and_reloads_through_core_models(tmp_path, settings):
    import torch
    from safetensors.torch import load_file

    from core.models import ModelSpec, load_pipeline

    config = _config(
        tmp_path,
        mode="controlnet",
        optim__max_steps=2,
        controlnet__num_layers=1,
        validation__every_steps=2,
        validation__num_images=1,
        validation__num_inference_steps=2,
    )
    result = train(config, settings.with_(device="cpu"))
    assert result.final_step == 2 and all(np.isfinite(loss) for _, loss in result.losses)
    assert (result.weights_dir / "config.json").is_file()
    assert len(result.validation_images) == 1
    saved = load_file(str(next(result.weights_dir.glob("*.safetensors"))))
    loaded = load_pipeline(
        ModelSpec("tiny-random", controlnet=str(result.weights_dir), device="cpu", dtype="float32"), settings
    )
    controlnet = loaded.controlnet_pipe.controlnet
    state = controlnet.state_dict()
    assert set(saved) == set(state)
    assert all(torch.equal(saved[key], state[key]) for key in saved)
    # training moved the zero-initialised input projection away from zero
    assert float(saved["pos_embed_input.proj.weight"].abs().sum()) > 0


def test_cancel_writes_a_checkpoint_that_a_rerun_resumes(tmp_path, settings):
    import threading

    from core.errors import CancelledError

    cancel = threading.Event()
    cancel.set()  # honoured after the first optimizer step
    config = _config(tmp_path, "cancelled", optim__max_steps=3, checkpoints__resume="latest")
    with pytest.raises(CancelledError, match="step 1"):
        train(config, settings.with_(device="cpu"), cancel=cancel)
    assert [p.name for p in complete_checkpoints(config.output_dir)] == ["checkpoint-00000001"]
    finished = train(config, settings.with_(device="cpu"))
    assert (finished.start_step, finished.final_step) == (1, 3)


def test_cli_runs_the_tiny_preset_end_to_end(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    require_shared(ECOMAPPER_EXAMPLE)
    out = tmp_path / "preset"
    command = [sys.executable, "-m", "core", "train", "--config", "assets/presets/train_lora_tiny.toml"]
    command += ["--output-dir", str(out), "--max-steps", "4"]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "trained lora steps 0->4" in proc.stdout
    assert f"weights: {out / 'lora'}" in proc.stdout
    assert [step for step, _ in read_loss_log(out / "loss.csv")] == [1, 2, 3, 4]
    assert (out / "lora" / "pytorch_lora_weights.safetensors").is_file()


def test_two_processes_train_one_model_with_gathered_losses(tmp_path):
    """Data-parallel training (as on several GPUs) with two CPU processes over gloo, via torchrun."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    require_shared(ECOMAPPER_EXAMPLE)
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "core", "train", "--config", "assets/presets/train_lora_tiny.toml"]
    command += ["--output-dir", str(out), "--max-steps", "2"]
    env = {**os.environ, "ECOMAPPER_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained lora steps 0->2") == 1  # only the main process reports
    assert [step for step, _ in read_loss_log(out / "loss.csv")] == [1, 2]  # one row per step, not per process
    assert [p.name for p in complete_checkpoints(out)] == ["checkpoint-00000002"]
    assert (out / "lora" / "pytorch_lora_weights.safetensors").is_file()
