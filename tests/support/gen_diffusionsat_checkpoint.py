"""Write a folder laid out like a published DiffusionSat checkpoint, with tiny random weights.

The Zenodo zips unpack to `checkpoint-<step>/unet/{config.json, diffusion_pytorch_model.bin}`,
saved by the original `SatUNet` (an older diffusers: `_class_name` "SatUNet", a torch pickle of
the state dict). The weights here come from a stock `UNet2DConditionModel` plus metadata tensors
named and shaped as the published ones (`metadata_embedding.{i}.linear_{1,2}.{weight,bias}`), so
they do not depend on our own class.

    .venv/bin/python -m tests.support.gen_diffusionsat_checkpoint OUT_DIR [--num-metadata 7]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.models.backends.tiny_unets import tiny_unet_config


def write_checkpoint(out_dir: Path, num_metadata: int = 7, seed: int = 0, drop_key: str | None = None) -> Path:
    """Write `out_dir/checkpoint-150000/unet/` and return the checkpoint folder."""
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    config = tiny_unet_config()
    state = UNet2DConditionModel(**config).state_dict()
    time_input = config["block_out_channels"][0]
    time_embed = time_input * 4
    for i in range(num_metadata):
        state[f"metadata_embedding.{i}.linear_1.weight"] = torch.randn(time_embed, time_input) * 0.02
        state[f"metadata_embedding.{i}.linear_1.bias"] = torch.zeros(time_embed)
        state[f"metadata_embedding.{i}.linear_2.weight"] = torch.randn(time_embed, time_embed) * 0.02
        state[f"metadata_embedding.{i}.linear_2.bias"] = torch.zeros(time_embed)
    if drop_key is not None:
        del state[drop_key]
    unet_dir = out_dir / "checkpoint-150000" / "unet"
    unet_dir.mkdir(parents=True, exist_ok=True)
    published = {
        "_class_name": "SatUNet",
        "_diffusers_version": "0.13.0.dev0",
        **{k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "use_metadata": True,
        "num_metadata": num_metadata,
        "time_embedding_type": "positional",
        "class_embed_type": None,
        "num_class_embeds": None,
        "mid_block_type": "UNetMidBlock2DCrossAttn",
        "flip_sin_to_cos": True,
        "freq_shift": 0,
    }
    (unet_dir / "config.json").write_text(json.dumps(published, indent=2))
    torch.save({k: v.contiguous() for k, v in state.items()}, unet_dir / "diffusion_pytorch_model.bin")
    return unet_dir.parent


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--num-metadata", type=int, default=7)
    args = parser.parse_args()
    print(write_checkpoint(args.out_dir, args.num_metadata))
