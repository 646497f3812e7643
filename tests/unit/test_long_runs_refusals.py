"""Long runs that must not be fooled or aborted: evaluate resumes only with the same settings and skips
a decompression bomb; training refuses unknown LoRA targets, a resume after a rank change and a
non-finite loss with one clear error."""

from __future__ import annotations

import json
import shutil

import pytest

from core.errors import BadRequestError
from tests.conftest import ECOMAPPER_EXAMPLE, require_shared
from tests.unit.test_input_limits import png_bomb

pytestmark = pytest.mark.slow


class _SeedGenerator:
    """The evaluation's SampleGenerator protocol: an image that depends only on the seed."""

    label = "seeded"

    def generate(self, sample, control, seed):
        import numpy as np

        return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def _evaluate(tmp_path, settings, **changes):
    from core.evaluation.run import EvaluationConfig, evaluate

    values = dict(
        model_id="seeded",
        data_dir=require_shared(ECOMAPPER_EXAMPLE) / "2017-2018",
        out_dir=tmp_path / "eval",
        limit=3,
        metrics=("ssim", "psnr"),
        num_inference_steps=2,
    )
    values.update(changes)
    return evaluate(EvaluationConfig(**values), settings, generator=_SeedGenerator())


@pytest.mark.parametrize(
    "change",
    [{"num_inference_steps": 3}, {"seed": 5}, {"guidance_scale": 3.0}, {"size_px": 128}, {"lora": "some-lora"}],
)
def test_a_rerun_with_other_settings_recomputes_and_reports_only_its_own_results(tmp_path, settings, change):
    first = _evaluate(tmp_path, settings)
    assert (first.generated, first.reused) == (3, 0)
    same = _evaluate(tmp_path, settings)
    assert (same.generated, same.reused) == (0, 3)  # the same settings resume
    changed = _evaluate(tmp_path, settings, **change)
    assert (changed.generated, changed.reused) == (3, 0)
    rows = (tmp_path / "eval" / "tables" / "models.csv").read_text().splitlines()
    assert len(rows) == 2  # one model row, averaged over this run's 3 samples only
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text())
    assert summary["selected"] == 3 and summary["reused"] == 0


def test_a_bomb_in_the_dataset_is_skipped_and_the_evaluation_finishes(tmp_path, settings):
    data = tmp_path / "data" / "1"
    shutil.copytree(require_shared(ECOMAPPER_EXAMPLE) / "2017-2018" / "1", data)
    from core.dataset.reader import read_dataset
    from core.evaluation.selection import stratified_order

    order = stratified_order(read_dataset(data.parent, open_images=False, resolve_places=False), seed=0)
    next(order)
    victim = next(order).image_path  # the second sample the evaluation reaches
    victim.unlink()
    png_bomb(victim, 20000)
    report = _evaluate(tmp_path, settings, data_dir=data.parent, limit=4)
    assert report.generated == 4
    assert report.skipped_files.get("image too large") == 1


def _train_config(tmp_path, name="run", **changes):
    from core.train import TrainConfig

    raw = {
        "mode": "lora",
        "base_model": "tiny-random",
        "output_dir": str(tmp_path / name),
        "data": {
            "data_dir": str(require_shared(ECOMAPPER_EXAMPLE) / "2017-2018"),
            "resolution_px": 64,
            "max_sequence_length": 128,
        },
        "optim": {"learning_rate": 1e-2, "batch_size": 2, "max_steps": 2},
        "lora": {"rank": 4, "alpha": 4.0},
        "checkpoints": {"every_steps": 1, "resume": "none"},
    }
    config = TrainConfig.from_dict(raw)
    return config.with_overrides(**changes) if changes else config


def test_an_unknown_lora_target_is_refused(tmp_path, settings):
    from core.train import train

    config = _train_config(tmp_path, lora__target_modules=["to_q", "to_k", "nonexistent_proj"])
    with pytest.raises(BadRequestError, match=r"target_modules \['nonexistent_proj'\] name no module"):
        train(config, settings.with_(device="cpu"))
    assert not list((tmp_path / "run").glob("checkpoints/*"))


def test_resuming_after_a_rank_change_is_one_clear_error(tmp_path, settings):
    from core.train import train

    train(_train_config(tmp_path), settings.with_(device="cpu"))
    changed = _train_config(tmp_path, lora__rank=8, checkpoints__resume="latest", optim__max_steps=4)
    with pytest.raises(BadRequestError, match=r"do not fit this config .*\[lora\] rank"):
        train(changed, settings.with_(device="cpu"))


def test_a_non_finite_loss_stops_training_with_a_clear_error(tmp_path, settings):
    """A checkpoint whose adapter holds NaN (a diverged or damaged run): resuming trains on NaN."""
    from safetensors.torch import load_file, save_file

    from core.train import train
    from core.train.adapters import LORA_WEIGHT_NAME
    from core.train.loop import TrainingDivergedError
    from core.train.run_files import complete_checkpoints

    train(_train_config(tmp_path), settings.with_(device="cpu"))
    latest = complete_checkpoints(tmp_path / "run")[-1]
    weights = load_file(str(latest / LORA_WEIGHT_NAME))
    save_file({k: v.clone().fill_(float("nan")) for k, v in weights.items()}, str(latest / LORA_WEIGHT_NAME))
    resumed = _train_config(tmp_path, checkpoints__resume="latest", optim__max_steps=4)
    with pytest.raises(TrainingDivergedError, match="Training loss became nan at step 3"):
        train(resumed, settings.with_(device="cpu"))
    assert [p.name for p in complete_checkpoints(tmp_path / "run")][-1] == latest.name  # nothing saved after
