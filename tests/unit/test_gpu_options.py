"""The GPU options' computed figures from the real parameter counts, beside Hugging Face's anchors."""

from __future__ import annotations

import json

import pytest

from core.models.gpu_options import GB, GPU_OPTIONS, estimate_option, gpu_options_table_markdown
from core.models.memory_table import part_weight_bytes
from core.models.registry import KNOWN_MODELS

MEDIUM = KNOWN_MODELS["sd3-medium"]
BY_NAME = {option.name: option for option in GPU_OPTIONS}


def test_each_anchor_measured_by_hugging_face_is_near_our_computed_peak():
    anchored = [option for option in GPU_OPTIONS if option.anchor is not None and option.anchor.peak_gb]
    assert len(anchored) == 3  # default, 8-bit T5, offload without T5
    for option in anchored:
        computed = estimate_option(MEDIUM, option).peak_gpu_bytes / GB
        # weights are exact; activations were measured on a CPU and CUDA's allocator adds its own share
        assert computed == pytest.approx(option.anchor.peak_gb, rel=0.2), option.name


def test_the_t5_options_save_what_its_weights_weigh():
    t5 = part_weight_bytes(MEDIUM, "float16")["text_encoder_3"]
    default = estimate_option(MEDIUM, BY_NAME["default (fp16)"]).peak_gpu_bytes
    assert default - estimate_option(MEDIUM, BY_NAME["8-bit T5 (bitsandbytes)"]).peak_gpu_bytes == t5 // 2
    assert default - estimate_option(MEDIUM, BY_NAME["4-bit T5 (bitsandbytes NF4)"]).peak_gpu_bytes == t5 * 3 // 4
    assert default - estimate_option(MEDIUM, BY_NAME["no T5"]).peak_gpu_bytes == t5


def test_offloading_trades_gpu_memory_for_system_ram():
    default = estimate_option(MEDIUM, BY_NAME["default (fp16)"])
    model = estimate_option(MEDIUM, BY_NAME["model CPU offload"])
    sequential = estimate_option(MEDIUM, BY_NAME["sequential CPU offload"])
    assert sequential.peak_gpu_bytes < model.peak_gpu_bytes < default.peak_gpu_bytes
    weights = sum(part_weight_bytes(MEDIUM, "float16").values())
    assert default.host_ram_bytes == 0 and model.host_ram_bytes == sequential.host_ram_bytes == weights
    # model offload holds the largest part: T5 (4.76 B parameters) outweighs the transformer (2.03 B)
    # with its activations (T5's own, 256 tokens, are small and not counted)
    assert model.peak_gpu_bytes == part_weight_bytes(MEDIUM, "float16")["text_encoder_3"]


def test_seconds_come_from_the_anchors_or_are_left_out():
    compiled = estimate_option(MEDIUM, BY_NAME["torch.compile, 20 steps"])
    assert compiled.seconds == 0.585 and "anchor" in compiled.seconds_how
    assert estimate_option(MEDIUM, BY_NAME["sequential CPU offload"]).seconds is None
    large = estimate_option(KNOWN_MODELS["sd3.5-large"], BY_NAME["default (fp16)"])
    assert large.seconds == pytest.approx(4.76 * 8_056_627_520 / 2_028_328_000)


def test_the_docs_table_is_the_computed_one():
    from tests.conftest import REPO

    table = gpu_options_table_markdown()
    assert table in (REPO / "docs" / "gpu.md").read_text(encoding="utf-8")
    assert table in (REPO / "README.md").read_text(encoding="utf-8")
    assert all(option.name in table for option in GPU_OPTIONS)


def test_selfcheck_lists_every_option_and_why_it_was_not_run_here(tmp_path, capsys):
    from core.cli import main

    assert main(["selfcheck", "--gpu-options", "--device", "cpu", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "gpu_options.json").read_text())
    assert report["size_px"] == 1024
    assert [row["option"] for row in report["options"]] == [option.name for option in GPU_OPTIONS]
    for row, option in zip(report["options"], GPU_OPTIONS, strict=True):
        assert row["measured"] is None
        if option.offered_for("sd3-medium"):
            assert row["not_run"] == "not run here: no CUDA GPU here (device cpu)"
            assert row["computed"]["peak_gpu_gb"] > 0
        elif option.offered:  # another model's preview
            assert row["not_run"] == f"not offered for sd3-medium (only {', '.join(option.models)})"
        else:
            assert row["not_run"].startswith("not offered: ")
    assert "| 8-bit T5 (bitsandbytes) | --t5-quantization 8bit | not run here" in capsys.readouterr().out


def test_the_pick_is_the_fastest_option_keeping_t5_that_fits_the_card():
    from core.models.gpu_options import pick_option

    large = KNOWN_MODELS["sd3.5-large"]
    assert pick_option(MEDIUM, 80 * GB).name == pick_option(large, 80 * GB).name == "default (fp16)"
    # 90 % of 16 GB = 14.4 GB: the default (16.2 GB computed) does not fit, the 8-bit T5 (11.3 GB) does
    assert pick_option(MEDIUM, 16 * GB).name == "8-bit T5 (bitsandbytes)"
    assert pick_option(MEDIUM, 2 * GB).name == "sequential CPU offload"
    assert all(pick_option(MEDIUM, size * GB).name != "no T5" for size in range(1, 100))


def test_the_preview_rows_are_the_preview_presets():
    from core.generation.quality import PREVIEW_PRESETS

    previews = [option for option in GPU_OPTIONS if option.flags == "--quality preview"]
    assert {model for option in previews for model in option.models} == set(PREVIEW_PRESETS) - {"tiny-random"}
    for option in previews:
        (model_id,) = option.models
        preset = PREVIEW_PRESETS[model_id]
        assert (option.steps, option.guidance_scale) == (preset.num_inference_steps, preset.guidance_scale)
        changes = preset.spec_changes()
        # a LoRA preset sets the LoRA on the chosen model; a distilled model is loaded instead of it
        assert option.model_id == changes.get("model_id")
        assert option.spec == {key: value for key, value in changes.items() if key != "model_id" and value is not None}


def test_the_distilled_sd35_large_preview_costs_the_base_memory_and_no_cfg_batch():
    large = KNOWN_MODELS["sd3.5-large"]
    turbo = estimate_option(large, BY_NAME["preview: SD3.5 Large Turbo (distilled model)"])
    default = estimate_option(large, BY_NAME["default (fp16)"])
    assert turbo.peak_gpu_bytes == default.peak_gpu_bytes  # the same architecture, other weights
    # 4 of 28 steps at guidance 0: diffusers skips the doubled (CFG) transformer batch
    assert turbo.seconds == pytest.approx(default.seconds * 4 / 28 / 2) and "no CFG" in turbo.seconds_how
    hyper = estimate_option(MEDIUM, BY_NAME["preview: Hyper-SD3 8-step LoRA"])
    assert hyper.seconds == pytest.approx(4.76 * 8 / 28)  # guidance 5: CFG runs


def test_selfcheck_of_sd35_large_lists_its_distilled_preview_with_figures(tmp_path, capsys):
    from core.cli import main

    out = ["--device", "cpu", "--out", str(tmp_path)]
    assert main(["selfcheck", "--gpu-options", "--model", "sd3.5-large", *out]) == 0
    rows = {row["option"]: row for row in json.loads((tmp_path / "gpu_options.json").read_text())["options"]}
    turbo = rows["preview: SD3.5 Large Turbo (distilled model)"]
    assert turbo["not_run"] == "not run here: no CUDA GPU here (device cpu)"
    assert turbo["computed"]["seconds_a100"] == pytest.approx(4.76 * 8_056_627_520 / 2_028_328_000 / 14, abs=0.01)
    assert rows["preview: Hyper-SD3 8-step LoRA"]["not_run"] == "not offered for sd3.5-large (only sd3-medium)"
    capsys.readouterr()
