"""The GPU option the app applies by default (`core.services.gpu`): `pick_option` for the card found,
the quantised T5 only where bitsandbytes is installed, nothing on CPU or for models without figures."""

from __future__ import annotations

from core.models.gpu_options import GB
from core.services.gpu import GpuPicker, gpu_choice, with_gpu_choice
from core.services.models import ModelSpec


def test_on_cpu_and_for_models_without_figures_nothing_changes():
    assert gpu_choice("sd3-medium", None) is None
    assert gpu_choice("tiny-random", 80 * GB) is None
    assert gpu_choice("sd3.5-medium", 80 * GB) is None  # no transformer figures to pick by
    assert gpu_choice("/data/my-model", 80 * GB) is None
    cpu = GpuPicker(probe=False)
    spec = ModelSpec("sd3-medium")
    assert cpu.apply(spec) == spec and cpu.note("sd3-medium").startswith("No CUDA GPU")
    assert cpu.note("tiny-random").startswith("tiny-random: no GPU option applied")


def test_the_option_follows_the_card_and_what_is_installed():
    assert gpu_choice("sd3-medium", 80 * GB).spec_fields == {}  # default fp16
    eight_bit = gpu_choice("sd3-medium", 16 * GB)
    assert (eight_bit.flags, eight_bit.spec_fields) == ("--t5-quantization 8bit", {"t5_quantization": "8bit"})
    # without bitsandbytes the quantised T5 cannot load: the next option that fits instead
    without = gpu_choice("sd3-medium", 16 * GB, bitsandbytes=False)
    assert without.spec_fields == {"cpu_offload": True}
    assert gpu_choice("sd3.5-large", 16 * GB).spec_fields == {"sequential_offload": True}
    assert gpu_choice("sd3-medium", 16 * GB).line() == (
        "GPU with 16 GB: sd3-medium runs with 8-bit T5 (bitsandbytes) (`--t5-quantization 8bit`)."
    )


def test_the_choice_sets_only_its_models_spec():
    choice = gpu_choice("sd3-medium", 12 * GB)
    applied = with_gpu_choice(ModelSpec("sd3-medium", lora="x"), choice)
    assert (applied.t5_quantization, applied.lora) == ("4bit", "x")
    assert with_gpu_choice(ModelSpec("sd3.5-large"), choice) == ModelSpec("sd3.5-large")
    picker = GpuPicker(gpu_bytes=12 * GB)
    assert picker.apply(ModelSpec("sd3-medium")).t5_quantization == ("4bit" if picker.bitsandbytes else "none")
