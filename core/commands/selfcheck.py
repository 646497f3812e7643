"""`python -m core selfcheck`: run every mode and known ControlNet once on a GPU, or say what is missing."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.config import Settings

HELP = "GPU self-check: every mode and known ControlNet once at 512 px on a real place (or what is missing)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="sd3-medium", help="base model to check (default sd3-medium)")
    parser.add_argument("--device", default="auto", help="auto | cuda | cuda:N | cpu (cpu only with tiny-random)")
    parser.add_argument("--dtype", default="auto", help="auto | float32 | float16 | bfloat16")
    parser.add_argument("--size", type=int, help="image size in px (default 512; 1024 with --gpu-options)")
    parser.add_argument("--steps", type=int, default=28, help="denoising steps per run (default 28)")
    parser.add_argument("--image", help="a real RGB image to use instead of fetching the self-check scene")
    parser.add_argument("--out", default="selfcheck", help="folder for contact_sheet.png and report.json")
    parser.add_argument(
        "--gpu-options",
        action="store_true",
        help="list every GPU speed/memory option: measured on this CUDA GPU (1024 px unless --size), or "
        "'not run here' and why, beside the estimate computed from the real configs (docs/gpu.md)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core import limits
    from core.io.files import atomic_write_json
    from core.io.outputs import check_output_dir
    from core.services.selfcheck import contact_sheet, find_missing, run_selfcheck

    # before anything: a 99999 px self-check grew by ~350 MB/s until killed (issue 26)
    args.size = args.size or (1024 if args.gpu_options else 512)
    limits.IMAGE_SIZE_PX.check("--size", args.size)
    limits.INFERENCE_STEPS.check("--steps", args.steps)
    check_output_dir(args.out, "--out")  # before the model loads
    if args.gpu_options:
        return _gpu_options(args, settings)
    missing = find_missing(args.model, settings, args.device)
    if missing:
        print(f"selfcheck of {args.model}: NOT RUN, {len(missing)} thing(s) missing on this machine:")
        for index, item in enumerate(missing, 1):
            print(f"{index}. {item.what}: {item.problem}")
            print(f"   how to get it: {item.fix}")
        return 1
    real = None
    if args.image:
        from core.commands._generation_args import read_control_image

        real = read_control_image(args.image, args.size)
    report = run_selfcheck(
        args.model,
        settings,
        device=args.device,
        dtype=args.dtype,
        size_px=args.size,
        num_inference_steps=args.steps,
        real_image=real,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from core.export.image_files import write_png

    sheet = write_png(contact_sheet(report), out / "contact_sheet.png", {"note": "real | each mode, labelled"})
    report_path = atomic_write_json(out / "report.json", report.as_dict())
    print(report.table())
    from core.commands._common import print_result, written_files

    print_result({"written": written_files(contact_sheet=sheet, report=report_path), "notes": report.notes})
    return 0


def _gpu_options(args: argparse.Namespace, settings: Settings) -> int:
    from core.io.files import atomic_write_json
    from core.services.selfcheck import gpu_options_report, gpu_options_table

    size = args.size
    rows = gpu_options_report(args.model, settings, device=args.device, dtype=args.dtype, size_px=size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = atomic_write_json(out / "gpu_options.json", {"model": args.model, "size_px": size,
                                                         "options": [row.as_dict() for row in rows]})  # fmt: skip
    print(f"GPU options for {args.model} at {size} px (computed: fp16 weights of the real configs + activations)")
    print(gpu_options_table(rows))
    print(f"report: {path}")
    return 0
