"""`python -m core evaluate`: score a model on an EcoMapper dataset and write the paper's tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands._generation_args import sampling_from

HELP = "evaluate a model on an EcoMapper dataset: FID, LPIPS, SSIM, PSNR, CLIP tables and plots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="model id (tiny-random, sd3-medium, or a peer backend: diffusionsat-256, diffusionsat-512, geosynth-osm, "
        "geosynth-canny, map-sat, text2earth), diffusers folder or Hub id",
    )
    parser.add_argument("--data", required=True, type=Path, help="EcoMapper dataset folder (or its CSV file)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (rerun with the same one to resume)")
    parser.add_argument(
        "--controlnet-previous",
        action="store_true",
        help="generate with ControlNet conditioned on the previous real month (1-6 months earlier)",
    )
    parser.add_argument("--controlnet", help="ControlNet weights (path or Hub id) for --controlnet-previous")
    parser.add_argument(
        "--img2img-previous",
        type=float,
        metavar="STRENGTH",
        help="generate with image-to-image from the previous real month at this strength (0..1), not text-to-image",
    )
    parser.add_argument("--lora", help="LoRA weights (path or Hub id) to load into the model")
    parser.add_argument(
        "--limit",
        type=int,
        help="evaluate at most N samples: a seeded sample stratified over places and months (with --subset: "
        "its first N rows)",
    )
    parser.add_argument(
        "--subset",
        type=Path,
        metavar="FILE.csv",
        help="evaluate the rows of an original evaluation list (location_id, img_path, ...; e.g. "
        "seed_98_final_test_single_image.csv), images under --data/<location_id>/; rows whose file is missing or "
        "with an empty value are skipped",
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed; each sample's seed derives from it")
    parser.add_argument("--steps", type=int, default=50, help="inference steps (paper: 50)")
    parser.add_argument("--guidance", type=float, default=7.5, help="guidance scale (paper: 7.5)")
    parser.add_argument("--size", type=int, default=512, help="generated size in px (resized to the real image)")
    parser.add_argument(
        "--metrics", help="comma-separated subset of fid,lpips,ssim,psnr,clip (default: every available one)"
    )
    parser.add_argument("--inception-weights", type=Path, help="FID Inception file pt_inception-2015-12-05-*.pth")
    parser.add_argument("--alexnet-weights", type=Path, help="AlexNet file alexnet-owt-7be5be79.pth (LPIPS)")
    parser.add_argument("--lpips-heads", type=Path, help="LPIPS v0.1 alex.pth heads")
    parser.add_argument("--clip-model", type=Path, help="folder of a CLIP model (default openai/clip-vit-base-patch16)")
    parser.add_argument("--no-download", action="store_true", help="never download metric weights")
    parser.add_argument("--save-images", action="store_true", help="also write the generated images")
    parser.add_argument(
        "--batch-size",
        type=int,
        help="samples generated and scored together (default: as many as fit in memory; 1 makes the "
        "scores independent of how samples are grouped, to the last float bit)",
    )
    parser.add_argument(
        "--extreme-percentile", type=float, default=10.0, help="extreme climate = beyond the p / 100-p percentiles"
    )
    parser.add_argument("--transformer", help="fully fine-tuned transformer folder (or an original train.py run)")
    parser.add_argument("--control-range", default="auto", choices=("auto", "0-1", "-1-1"), help="ControlNet input")
    parser.add_argument(
        "--paper",
        "--paper-conventions",
        dest="paper",
        action="store_true",
        help="every convention of the paper at once (docs/evaluation.md): torch-fidelity FID input, JPEG q75, "
        "random 1-6 month control, NASA POWER for missing climate, cosine CLIP, float16, zero ControlNet pooled "
        "projection, the model's caption preset (CN-LoRA: skip_date_location, CLIP against that prompt); "
        "give the paper's list with --subset",
    )
    parser.add_argument(
        "--dtype", choices=("auto", "float16", "bfloat16", "float32"), help="inference dtype (paper: float16)"
    )
    parser.add_argument(
        "--controlnet-pooled",
        choices=("real", "zero"),
        help="pooled text projection of an original-format ControlNet (paper: zero, as diffusers 0.32.1)",
    )
    parser.add_argument("--clip-scale", choices=("cosine", "x100"), help="CLIP score scale (default cosine)")
    parser.add_argument("--fid-preprocessing", choices=("pytorch-fid", "torch-fidelity"), help="Inception input")
    parser.add_argument("--jpeg-quality", type=int, help="score generated images after a JPEG round trip (paper: 75)")
    parser.add_argument(
        "--control-choice", choices=("random", "latest"), help="control month 1-6 months earlier (default random)"
    )
    parser.add_argument("--fill-climate", action="store_true", help="NASA POWER climate for samples without one")
    parser.add_argument(
        "--caption-preset",
        help="prompts to generate with and score CLIP against (core.generation.prompts.CAPTION_PRESETS; default "
        "fixed_caption; --paper: the model's own)",
    )
    _add_cluster_argument(parser)


def _add_cluster_argument(parser: argparse.ArgumentParser) -> None:
    # explicit only (not ECOMAPPER_DASK_SCHEDULER): each process of `accelerate launch` reads the environment too
    parser.add_argument(
        "--scheduler", help="split the samples over a dask cluster: tcp://host:8786 or local:N (docs/scaling.md)"
    )


def run(args: argparse.Namespace, settings) -> int:
    from core.io.dask_cluster import check_scheduler
    from core.services.evaluate import evaluate_model, evaluation_config

    metrics = tuple(m.strip().lower() for m in args.metrics.split(",") if m.strip()) if args.metrics else None
    options = {
        key: value
        for key, value in (
            ("clip_scale", args.clip_scale),
            ("fid_preprocessing", args.fid_preprocessing),
            ("jpeg_quality", args.jpeg_quality),
            ("control_choice", args.control_choice),
            ("dtype", args.dtype),
            ("controlnet_pooled", args.controlnet_pooled),
            ("caption_preset", args.caption_preset),
        )
        if value is not None
    }
    if args.fill_climate:
        options["fill_missing_climate"] = True
    config = evaluation_config(
        paper_conventions=args.paper,
        model_id=args.model,
        data_dir=args.data,
        out_dir=args.out,
        controlnet_previous=args.controlnet_previous,
        img2img_strength=args.img2img_previous,
        limit=args.limit,
        subset=args.subset,
        **sampling_from(args),
        metrics=metrics,
        inception_weights=args.inception_weights,
        alexnet_weights=args.alexnet_weights,
        lpips_heads=args.lpips_heads,
        clip_model=args.clip_model,
        download_weights=not args.no_download,
        lora=args.lora,
        controlnet=args.controlnet,
        save_images=args.save_images,
        extreme_percentile=args.extreme_percentile,
        batch_size=args.batch_size,
        transformer=args.transformer,
        control_range=args.control_range,
        **options,
    )
    report = evaluate_model(config, settings, scheduler=check_scheduler(args.scheduler or ""))
    if report is None:  # a non-main process of a multi-process run
        return 0
    print(
        f"evaluated {report.n_selected} samples ({report.generated} generated now, {report.reused} reused) "
        f"on {report.num_processes} process(es) in {report.elapsed_s:.1f} s"
    )
    print(f"selection: {report.selection}")
    print(f"metrics: {', '.join(report.metrics_used)}")
    for name, reason in sorted(report.metrics_unavailable.items()):
        print(f"not computed: {name}: {reason}")
    if report.skipped_files:
        print(f"skipped files: {report.skipped_files}")
    print(f"report: {report.markdown_path}")
    for name, path in report.table_paths.items():
        print(f"table {name}: {path}")
    for name, path in report.plot_paths.items():
        print(f"plot {name}: {path}")
    return 0
