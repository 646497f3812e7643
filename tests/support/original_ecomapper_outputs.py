"""Write files laid out exactly as the original EcoMapper scripts write them, with the tiny model.

Seeded and small. Each writer mirrors the saving code of one original script (github
maltevb/ecomapper, commit fa37060), with the tiny SD3 of `core.models.tiny` in place of sd3-medium:

* `write_train_lora_output`: train_lora.py -> `<run>/transformer.safetensors`, the whole
  peft-injected transformer's `state_dict()` in float32 (LoRA r=alpha, gaussian init, on
  to_q/to_k/to_v/to_out.0; `norm_out`/`proj_out` changed as if trained fully), plus `log.json`.
* `write_train_output`: train.py -> `StableDiffusion3Pipeline.from_pretrained(id, transformer=...,
  text_encoder=None, tokenizer=None, ..., text_encoder_3=None, tokenizer_3=None).save_pretrained(run)`.
* `write_train_controlnet_output`: train_controlnet.py -> `controlnet.save_pretrained(run)`.
* `write_train_controlnet_lora_output`: train_controlnet_lora.py -> `<run>/controlnet.safetensors`,
  the ControlNet (LoRA layers inside) state dict in float32.

Run by hand: `.venv/bin/python -m tests.support.original_ecomapper_outputs OUT_DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

LORA_RANK = 4
# build_tiny_pipeline(seed=0) builds its transformer with seed 4: the "base model" of these runs.
BASE_TRANSFORMER_SEED = 4
LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]


def _perturb(module, seed: int, scale: float = 0.05, only: tuple[str, ...] = ()) -> None:
    """Move the given parameters away from their start, as training would (seeded)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if only and not any(part in name for part in only):
                continue
            param.add_(scale * torch.randn(param.shape, generator=generator))


def _lora_config():
    from peft import LoraConfig

    return LoraConfig(r=LORA_RANK, lora_alpha=LORA_RANK, init_lora_weights="gaussian", target_modules=LORA_TARGETS)


def write_train_lora_output(run_dir: Path, seed: int = 1) -> Path:
    """train_lora.py: `save_file(transformer.state_dict(), run/transformer.safetensors)`."""
    import torch
    from safetensors.torch import save_file

    from core.models.tiny import build_tiny_transformer

    transformer = build_tiny_transformer(seed=BASE_TRANSFORMER_SEED)
    transformer.add_adapter(_lora_config())
    # lora_B starts at zero; after training it is not
    _perturb(transformer, seed, scale=0.2, only=("lora_B",))
    _perturb(transformer, seed + 1, scale=0.2, only=("norm_out", "proj_out"))
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.to(torch.float32).contiguous() for k, v in transformer.state_dict().items()}
    save_file(state, str(run_dir / "transformer.safetensors"))
    (run_dir / "log.json").write_text(json.dumps({"iteration": 1}, indent=4))
    return run_dir / "transformer.safetensors"


def write_train_output(run_dir: Path, seed: int = 2, with_vae: bool = True) -> Path:
    """train.py: a pipeline saved with the text encoders and tokenizers set to None."""
    from diffusers import StableDiffusion3Pipeline

    from core.models.tiny import build_tiny_pipeline

    base = build_tiny_pipeline(seed=0)
    transformer = base.transformer
    _perturb(transformer, seed, scale=0.05)
    pipeline = StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=base.scheduler,
        vae=base.vae if with_vae else None,
        text_encoder=None,
        tokenizer=None,
        text_encoder_2=None,
        tokenizer_2=None,
        text_encoder_3=None,
        tokenizer_3=None,
    )
    pipeline.save_pretrained(str(run_dir))
    (run_dir / "log.json").write_text(json.dumps({"iteration": 1}, indent=4))
    return run_dir


def _controlnet(seed: int):
    from core.models.tiny import build_controlnet_from_transformer, build_tiny_transformer

    controlnet = build_controlnet_from_transformer(build_tiny_transformer(seed=BASE_TRANSFORMER_SEED), num_layers=1)
    _perturb(controlnet, seed, scale=0.05, only=("controlnet_blocks", "pos_embed_input"))
    return controlnet


def write_train_controlnet_output(run_dir: Path, seed: int = 3) -> Path:
    """train_controlnet.py: `controlnet.save_pretrained(output_dir)`."""
    controlnet = _controlnet(seed)
    controlnet.save_pretrained(str(run_dir))
    return run_dir


def write_train_controlnet_lora_output(run_dir: Path, seed: int = 4) -> Path:
    """train_controlnet_lora.py: `save_file(controlnet.state_dict(), run/controlnet.safetensors)`."""
    import torch
    from safetensors.torch import save_file

    controlnet = _controlnet(seed)
    controlnet.add_adapter(_lora_config())
    _perturb(controlnet, seed + 1, scale=0.2, only=("lora_B",))
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.to(torch.float32).contiguous() for k, v in controlnet.state_dict().items()}
    save_file(state, str(run_dir / "controlnet.safetensors"))
    return run_dir / "controlnet.safetensors"


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "original_outputs")
    print(write_train_lora_output(out / "lora_run"))
    print(write_train_output(out / "full_run"))
    print(write_train_controlnet_output(out / "controlnet_run"))
    print(write_train_controlnet_lora_output(out / "controlnet_lora_run"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
