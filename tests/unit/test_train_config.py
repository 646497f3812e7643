"""The training config: strict TOML parsing, clear errors before any work, the presets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from core.errors import BadRequestError
from core.train.config import PAPER_LORA_TARGETS, TrainConfig, load_train_config
from tests.conftest import ECOMAPPER_EXAMPLE, REPO, require_shared

PRESETS = REPO / "assets" / "presets"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _valid_toml(data_dir: Path, output_dir: Path, extra: str = "", data_extra: str = "") -> str:
    return (
        f'mode = "lora"\nbase_model = "tiny-random"\noutput_dir = "{output_dir}"\n{extra}\n'
        f'[data]\ndata_dir = "{data_dir}"\nresolution_px = 64\n{data_extra}\n'
    )


def test_a_valid_config_reads_every_section(tmp_path):
    text = _valid_toml(tmp_path, tmp_path / "out") + "[optim]\nlearning_rate = 1e-4\nmax_steps = 3\n[lora]\nrank = 8\n"
    config = load_train_config(_write(tmp_path, text))
    assert config.mode == "lora"
    assert config.data.resolution_px == 64
    assert config.optim.learning_rate == pytest.approx(1e-4)
    assert config.optim.max_steps == 3
    assert config.lora.rank == 8
    assert config.lora.alpha == 64.0  # default kept
    assert config.lora.target_modules == PAPER_LORA_TARGETS
    assert config.resolved_cache_dir == tmp_path / "out" / "cache"


@pytest.mark.parametrize(
    ("extra", "data_extra", "section_extra", "expected"),
    [
        ("learning_rat = 1e-4", "", "", "learning_rat"),  # unknown top-level key
        ("", "resolution = 64", "", "Did you mean 'resolution_px'"),  # unknown key in a section
        ("", "", "[optim]\nlearning_rate = -1e-4\n", "learning_rate"),  # negative lr
        ("", "", "[optim]\nlearning_rate = 0\n", "learning_rate"),
        ("", "", "[optim]\nbatch_size = 1.5\n", "an integer"),  # wrong type
        ("", "", '[lora]\ntarget_modules = "to_q"\n', "a list of strings"),
        ('mixed_precision = "fp8"', "", "", "mixed_precision"),
        ("", "", "[controlnet]\nmin_months_before = 7\n", "min_months_before"),
        ("", "", '[optim]\nweighting_scheme = "normal"\n', "weighting_scheme"),
        ("", "", "[surprise]\nx = 1\n", "surprise"),
    ],
)
def test_bad_values_name_the_setting(tmp_path, extra, data_extra, section_extra, expected):
    text = _valid_toml(tmp_path, tmp_path / "out", extra, data_extra) + section_extra
    with pytest.raises(BadRequestError) as caught:
        load_train_config(_write(tmp_path, text))
    assert expected in str(caught.value)


@pytest.mark.parametrize("resolution", [0, 100, 520, -16])
def test_resolution_must_be_a_positive_multiple_of_16(tmp_path, resolution):
    text = _valid_toml(tmp_path, tmp_path / "out").replace("resolution_px = 64", f"resolution_px = {resolution}")
    with pytest.raises(BadRequestError, match="multiple of 16"):
        load_train_config(_write(tmp_path, text))


def test_missing_data_directory_is_reported(tmp_path):
    text = _valid_toml(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(BadRequestError, match="data_dir .* is not an existing folder"):
        load_train_config(_write(tmp_path, text))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(BadRequestError, match="not valid TOML"):
        load_train_config(_write(tmp_path, "mode = lora ="))
    with pytest.raises(BadRequestError, match="does not exist"):
        load_train_config(tmp_path / "absent.toml")


def test_overrides_are_parsed_and_validated(tmp_path):
    config = load_train_config(_write(tmp_path, _valid_toml(tmp_path, tmp_path / "out")))
    changed = config.with_overrides(output_dir=str(tmp_path / "other"), optim__max_steps=5, cache_latents=True)
    assert changed.output_dir == tmp_path / "other"
    assert changed.optim.max_steps == 5 and changed.cache_latents
    with pytest.raises(BadRequestError, match="learning_rate"):
        config.with_overrides(optim__learning_rate=-1.0)
    with pytest.raises(BadRequestError, match="not a known setting"):
        config.with_overrides(optim__speed=2)


def test_cli_rejects_a_bad_config_before_any_work(tmp_path):
    out = tmp_path / "out"
    text = _valid_toml(tmp_path, out) + "[optim]\nlearning_rate = -0.1\n"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "train", "--config", str(_write(tmp_path, text))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: Training config: [optim] learning_rate")
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # nothing was written, no model was built


def test_cli_data_dir_override_replaces_the_presets_placeholder_folder(tmp_path):
    # The paper preset names data/ecomapper, which need not exist: --data-dir must win before any check.
    empty = tmp_path / "empty_dataset"
    empty.mkdir()
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "train", "--config", str(PRESETS / "train_lora_paper.toml"),
         "--data-dir", str(empty), "--output-dir", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1, proc.stderr
    assert str(empty) in lines[0] and "data/ecomapper" not in lines[0]
    assert not out.exists()


def test_cli_data_dir_override_that_does_not_exist_is_reported(tmp_path):
    missing = tmp_path / "nowhere"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "train", "--config", str(PRESETS / "train_lora_paper.toml"),
         "--data-dir", str(missing), "--output-dir", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"data_dir = {str(missing)!r} is not an existing folder" in proc.stderr


def test_paper_presets_hold_the_paper_settings(tmp_path):
    lora_raw = tomllib.loads((PRESETS / "train_lora_paper.toml").read_text())
    lora_raw["data"]["data_dir"] = str(tmp_path)
    lora = TrainConfig.from_dict(lora_raw)
    assert (lora.lora.rank, lora.lora.alpha, lora.lora.target_modules) == (64, 64.0, PAPER_LORA_TARGETS)
    assert lora.optim.learning_rate == pytest.approx(2e-6)
    assert lora.data.resolution_px == 512
    assert lora.optim.weighting_scheme == "logit_normal"
    control_raw = tomllib.loads((PRESETS / "train_controlnet_paper.toml").read_text())
    control_raw["data"]["data_dir"] = str(tmp_path)
    control = TrainConfig.from_dict(control_raw)
    assert control.mode == "controlnet"
    assert control.controlnet.num_layers == 12
    assert (control.controlnet.min_months_before, control.controlnet.max_months_before) == (1, 6)


@pytest.mark.parametrize("name", ["train_lora_tiny.toml", "train_controlnet_tiny.toml"])
def test_tiny_presets_parse_against_the_shared_samples(name, monkeypatch):
    if not ECOMAPPER_EXAMPLE.exists():
        pytest.skip("shared fixtures absent")
    monkeypatch.chdir(REPO)
    config = load_train_config(PRESETS / name)
    assert config.base_model == "tiny-random"
    assert config.data.resolution_px % 16 == 0


def test_importing_the_training_modules_stays_light():
    code = (
        "import sys, core.train, core.dataset.builder, core.commands.train, core.commands.build_dataset\n"
        "print(sorted(m for m in ('torch', 'diffusers', 'accelerate', 'peft', 'rasterio') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_a_checkpoint_of_the_other_mode_is_refused_before_loading_a_model(tmp_path, settings):
    from core.train import train
    from core.train.run_files import checkpoint_dir, write_state_file

    data_dir = require_shared(ECOMAPPER_EXAMPLE) / "2017-2018"
    config = load_train_config(_write(tmp_path, _valid_toml(data_dir, tmp_path / "out")))
    foreign = checkpoint_dir(config.output_dir, 5)
    foreign.mkdir(parents=True)
    write_state_file(foreign, {"step": 5, "mode": "controlnet"})
    with pytest.raises(BadRequestError, match="it is a controlnet checkpoint"):
        train(config, settings.with_(device="cpu"))
