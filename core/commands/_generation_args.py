"""Arguments and helpers shared by the generating commands (model, sampling, request fields, progress)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from core.errors import BadRequestError
from core.services.generate import DEFAULT_GUIDANCE, DEFAULT_STEPS, DEFAULT_STRENGTH


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    from core.services import model_choices

    listing = "; ".join(f"{model_id}: {text}" for model_id, text in model_choices())
    group = parser.add_argument_group("model")
    group.add_argument("--model", help=f"model id, local diffusers folder or Hub id ({listing}); required")
    group.add_argument("--lora", help="LoRA adapter: .safetensors file, folder or Hub id")
    group.add_argument("--lora-scale", type=float, default=1.0, help="LoRA strength (0 = base model; default 1)")
    from core.services import controlnet_choices

    controlnets = "; ".join(f"{cid}: {text}" for cid, text in controlnet_choices())
    group.add_argument(
        "--controlnet", help=f"SD3 ControlNet: {controlnets}; or a folder or Hub id (tiny-random carries its own)"
    )
    group.add_argument(
        "--transformer", help="fully fine-tuned SD3 transformer folder (or an original EcoMapper train.py run folder)"
    )
    group.add_argument(
        "--control-range",
        default="auto",
        choices=("auto", "0-1", "-1-1"),
        help="control image range for the ControlNet: 0-1 for the original EcoMapper scripts' ControlNets",
    )
    group.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    group.add_argument("--dtype", default="auto", help="auto | float32 | float16 | bfloat16")
    group.add_argument("--cpu-offload", action="store_true", help="model CPU offload (CUDA; saves GPU memory)")
    group.add_argument("--no-t5", action="store_true", help="run without T5 (less memory; loses the climate prompt)")
    group.add_argument(
        "--t5-quantization",
        default="none",
        choices=("none", "8bit", "4bit"),
        help="T5 weights in 8 or 4 bits (bitsandbytes, CUDA; keeps the climate prompt, ~half / quarter of 9 GB)",
    )
    group.add_argument(
        "--sequential-offload", action="store_true", help="stream weights layer by layer (CUDA; least memory, slow)"
    )
    group.add_argument("--hf-cache-dir", help="Hugging Face cache folder (default: huggingface_hub's)")
    group.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the transformer with fused QKV projections (GPU; slow first run; no gain on a CPU)",
    )


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sampling")
    group.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    group.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"denoising steps (default {DEFAULT_STEPS})")
    group.add_argument(
        "--guidance", type=float, default=DEFAULT_GUIDANCE, help=f"guidance scale (default {DEFAULT_GUIDANCE})"
    )
    group.add_argument("--size", type=int, default=512, help="output size in px: 512 (footprint) or 1024")
    group.add_argument(
        "--controlnet-scale",
        type=float,
        default=None,
        help="ControlNet strength 0..2 (default: the ControlNet's own, 0.5 for the InstantX ones, else 1)",
    )
    group.add_argument("--words", action="store_true", help="word mode: the climate prompt in words")
    group.add_argument(
        "--quality",
        choices=("full", "preview"),
        default="full",
        help="preview: the model's few-step variant with the same seed, setting --steps and --guidance "
        "(sd3-medium: Hyper-SD3 LoRA, 8 steps; sd3.5-medium: TensorArt Turbo LoRA, 8 steps; sd3.5-large: the "
        "distilled stable-diffusion-3.5-large-turbo model, 4 steps); LoRA files go in checkpoints/ (docs/gpu.md)",
    )


def check_sampling_arguments(args: argparse.Namespace) -> None:
    """Every number of the sampling and model options against core.limits, before any work."""
    from core import limits

    for option, limit in (
        ("--size", limits.IMAGE_SIZE_PX),
        ("--steps", limits.INFERENCE_STEPS),
        ("--guidance", limits.GUIDANCE_SCALE),
        ("--seed", limits.GENERATION_SEED),
        ("--controlnet-scale", limits.CONTROLNET_SCALE),
        ("--lora-scale", limits.LORA_SCALE),
    ):
        # absent: the command has no such option; None: left to the model's default
        value = getattr(args, option[2:].replace("-", "_"), None)
        if value is not None:
            limit.check(option, value)


# what a recipe fixes, with the command-line defaults: a value other than the default would be ignored
RECIPE_FIXES = (("--seed", 0), ("--steps", DEFAULT_STEPS), ("--guidance", DEFAULT_GUIDANCE), ("--size", 512))


def refuse_overrides_of_recipe(args: argparse.Namespace) -> None:
    """`--recipe` with e.g. `--steps 3`: refused rather than silently regenerating with the recipe's 50."""
    check_sampling_arguments(args)
    for option, default in RECIPE_FIXES:
        value = getattr(args, option[2:], default)
        if value != default:
            raise BadRequestError(
                f"{option} {value} cannot be used with --recipe (the recipe fixes the seed, steps, guidance and size).",
                f"Leave {option} out to regenerate the recipe as it was, or give --lat/--lon/--month instead.",
            )


def add_mode_arguments(parser: argparse.ArgumentParser) -> None:
    """--mode, --strength and the edit options (generate, timelapse, grid, compare)."""
    from core.services import MODES

    group = parser.add_argument_group("mode")
    group.add_argument(
        "--mode",
        choices=MODES,
        help="text-to-image, ControlNet, image-to-image from the real image of the month (or --control-month / "
        "--control-image), edit (FlowEdit: the real image of the month edited from today's climate to the "
        "scenario) or invert (the real image inverted under today's climate, regenerated under the scenario); "
        "default: controlnet when a control image or month is given, else text",
    )
    group.add_argument(
        "--strength",
        type=float,
        default=DEFAULT_STRENGTH,
        help=f"img2img: how much of the start image is redrawn, 0..1 (default {DEFAULT_STRENGTH})",
    )
    edit = parser.add_argument_group("edit / invert (FlowEdit's names; defaults: FlowEdit's SD3 values)")
    edit.add_argument("--n-max", type=int, help="steps edited, from the end (edit: 66 %% of --steps; invert: all)")
    edit.add_argument("--n-min", type=int, default=0, help="edit: last steps sampled plainly (default 0)")
    edit.add_argument("--n-avg", type=int, default=1, help="edit: noise draws averaged per step (default 1)")
    edit.add_argument("--source-guidance", type=float, help="guidance of today's caption (edit 3.5; invert 1)")
    edit.add_argument("--target-guidance", type=float, help="guidance of the scenario's caption (edit 13.5; invert 1)")


def add_request_arguments(parser: argparse.ArgumentParser, *, control_image_help: str, control_month_help: str) -> None:
    """What `generate.request_from_args` reads (generate, compare): place, month, context, scenario, control.

    --lat/--lon/--month are optional here because `generate --recipe` can give them.
    """
    from core.commands._prompt_context import add_context_arguments

    parser.add_argument("--lat", type=float, help="latitude in decimal degrees")
    parser.add_argument("--lon", type=float, help="longitude in decimal degrees")
    parser.add_argument("--month", help="month to generate, YYYY-MM")
    add_context_arguments(parser)
    add_scenario_arguments(parser)
    control = parser.add_mutually_exclusive_group()
    control.add_argument("--control-image", metavar="PATH", help=control_image_help)
    control.add_argument("--control-month", metavar="YYYY-MM", help=control_month_help)
    parser.add_argument(
        "--layout-json",
        metavar="PATH",
        help='AeroGen: a box layout, [{"label": "airplane", "box": [x_min, y_min, x_max, y_max]}, ...] or "corners": '
        "[x1, y1, ..., x4, y4] for rotated boxes; fractions of the image (0..1), up to 20 DIOR-R objects",
    )


def add_scenario_arguments(parser: argparse.ArgumentParser, *, precip_scale: bool = False) -> None:
    """--temp-delta, --precip-change (percent) [or --precip-scale], --rad-delta: the scenario."""
    group = parser.add_argument_group("scenario (applied to the observed or given climate)")
    group.add_argument("--temp-delta", type=float, default=0.0, help="°C added to the temperature (default 0)")
    rain = group.add_mutually_exclusive_group()
    rain.add_argument(
        "--precip-change", type=float, metavar="PCT", help="precipitation change in percent (-30 = 30 %% less rain)"
    )
    if precip_scale:
        rain.add_argument("--precip-scale", type=float, help="precipitation factor (1.2 = +20 %%; default 1)")
    group.add_argument("--rad-delta", type=float, default=0.0, help="MJ/m²/day added to the solar radiation")
    group.add_argument("--scenario-name", default="", help="a short name shown before the numbers in labels")


def scenario_from(args: argparse.Namespace):
    """The `Scenario` the scenario arguments describe."""
    from core.services import Scenario

    pct = args.precip_change
    scale = getattr(args, "precip_scale", None)
    if pct is None:
        pct = 0.0 if scale is None else (scale - 1.0) * 100.0
    return Scenario.of_change(args.temp_delta, pct, args.rad_delta, name=args.scenario_name)


def strength_from(args: argparse.Namespace) -> float:
    """--strength where the command has it, else the default."""
    return getattr(args, "strength", DEFAULT_STRENGTH)


def edit_options_from(args: argparse.Namespace):
    """The `EditOptions` of --n-max ... --target-guidance (all defaults where the command has none)."""
    from core.services import EditOptions

    names = ("n_max", "n_min", "n_avg", "source_guidance", "target_guidance")
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    return EditOptions(**given)


def mode_fields(args: argparse.Namespace, conditioned: bool) -> dict:
    """mode, strength and edit options of a request (edit options only in modes edit / invert)."""
    mode = mode_from(args, conditioned)
    fields = {"mode": mode, "strength": strength_from(args)}
    if mode in ("edit", "invert"):
        fields["edit"] = edit_options_from(args)
    elif edit_options_from(args).as_dict() != {"n_max": None, "n_min": 0, "n_avg": 1, "source_guidance": None,
                                               "target_guidance": None}:  # fmt: skip
        raise BadRequestError(f"--n-max ... --target-guidance were given with --mode {mode}.",
                              "Use them with --mode edit or invert.")  # fmt: skip
    return fields


def mode_from(args: argparse.Namespace, conditioned: bool) -> str:
    """--mode, or ControlNet when a control image / month was given, else text."""
    if getattr(args, "mode", None):
        return args.mode
    return "controlnet" if conditioned else "text"


def controlnet_scale_from(args: argparse.Namespace, spec) -> float:
    """--controlnet-scale, else the known ControlNet's default (0.5 for the InstantX ones), else 1."""
    from core.services import default_controlnet_scale

    if args.controlnet_scale is not None:
        return args.controlnet_scale
    return default_controlnet_scale(spec)


def spec_from(args: argparse.Namespace):
    from core.services import ModelSpec

    if not args.model:
        raise BadRequestError("No --model given.", "Pass --model sd3-medium, tiny-random, a folder or a Hub id.")
    weights = dict(model_id=args.model, lora=args.lora, lora_scale=args.lora_scale)
    if getattr(args, "quality", "full") == "preview":
        from core.generation.quality import preview_preset

        # the few-step LoRA on the base, or the distilled model instead of it
        weights |= preview_preset(args.model, args.lora).spec_changes()
    return ModelSpec(
        **weights,
        controlnet=args.controlnet,
        device=args.device,
        dtype=args.dtype,
        cpu_offload=args.cpu_offload,
        drop_t5=args.no_t5,
        t5_quantization=getattr(args, "t5_quantization", "none"),
        sequential_offload=getattr(args, "sequential_offload", False),
        transformer=getattr(args, "transformer", None),
        control_range=getattr(args, "control_range", "auto"),
        controlnet_pooled=getattr(args, "controlnet_pooled", "real"),
    )


def add_paper_argument(parser: argparse.ArgumentParser) -> None:
    """`--paper`: load the model as the original's scripts ran it (`apply_paper_model_conventions`)."""
    parser.add_argument(
        "--paper",
        action="store_true",
        help="as the paper ran it: float16 (unless --dtype says otherwise; bfloat16 offered) and a zero pooled "
        "projection for an original-format ControlNet (diffusers 0.32.1)",
    )


def apply_paper_model_conventions(args: argparse.Namespace) -> None:
    """With --paper: float16 unless --dtype was given, and the ControlNet's zero pooled projection."""
    if getattr(args, "paper", False):
        if args.dtype == "auto":
            args.dtype = "float16"
        args.controlnet_pooled = "zero"


def request_fields(args: argparse.Namespace, settings, point, month, *, observed_climate: bool = True) -> dict:
    """The request fields every generating command reads alike: place, land cover, cloud, climate and sampling.

    Looks up in this order: place names, land cover, then (with observed_climate) --temp/--precip/--rad or
    NASA POWER. The keys are shared by `GenerateRequest` and `GenerationRequest`.
    """
    from core.commands._prompt_context import resolve_climate, resolve_land_cover, resolve_place

    state, country = resolve_place(args, point, settings)
    fields = dict(
        point=point,
        month=month,
        land_cover=resolve_land_cover(args, point, settings),
        cloud_fraction=args.cloud,
    )
    if observed_climate:
        fields["observed_climate"] = resolve_climate(args, point, month, settings)
    return fields | sampling_from(args) | dict(state=state, country=country, word_mode=getattr(args, "words", False))


def sampling_from(args: argparse.Namespace) -> dict:
    """--seed, --steps, --guidance and --size under the request's names (every command that samples);
    `--quality preview` replaces the steps and guidance by its LoRA's."""
    steps, guidance = args.steps, args.guidance
    if getattr(args, "quality", "full") == "preview":
        from core.generation.quality import preview_preset

        preset = preview_preset(args.model, getattr(args, "lora", None))
        steps, guidance = preset.num_inference_steps, preset.guidance_scale
    return dict(seed=args.seed, num_inference_steps=steps, guidance_scale=guidance, size_px=args.size)


def load_engine(args: argparse.Namespace, settings, spec=None):
    from core.services import load_engine as load

    # the loader logs its warnings (no T5, tiny model makes noise); the CLI shows WARNING and up
    engine = load(spec or spec_from(args), settings, hf_cache_dir=args.hf_cache_dir)
    if getattr(args, "compile", False):
        if not hasattr(engine, "compile"):
            raise BadRequestError(f"--compile works with SD3 models, not {args.model}.", "Leave --compile out.")
        engine.compile()
    return engine


def boxes_from(args: argparse.Namespace) -> tuple:
    """The box layout of --layout-json, or () without it.

    Raises:
        BadRequestError: the file is missing, not JSON, or not a list of boxes.
    """
    import json

    from core.services import parse_boxes

    path = getattr(args, "layout_json", None)
    if not path:
        return ()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise BadRequestError(f"The layout file {path} does not exist.", "Check --layout-json.") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        problem = f"The layout file {path} is not readable JSON: {err}"
        raise BadRequestError(problem, "Give a JSON list of boxes.") from err
    return parse_boxes(data)


def read_control_image(path: str, size_px: int) -> np.ndarray:
    """A user's control image: must be an RGB image of exactly size_px x size_px (no silent conversion)."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    from core.io.images import ImageTooLargeError, check_pixel_count
    from core.io.inputs import check_input_file
    from core.limits import IMAGE_SIZE_PX
    from core.services.generate import check_control_image

    # a FIFO or device would block the read forever
    file = check_input_file(path, "control image", f"Give a {size_px} x {size_px} RGB image of the footprint.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit is lower
            with Image.open(file) as img:
                # the header's size is checked before any pixel is decoded
                check_pixel_count(img.size, "control image", file.name)
                mode, size = img.mode, img.size
                img.load()
                array = np.asarray(img)
    except Image.DecompressionBombError as err:
        raise ImageTooLargeError(
            f"The control image {file.name} is far too large to decode ({err}).",
            f"Give a {size_px} x {size_px} RGB image of the footprint.",
        ) from err
    except FileNotFoundError as err:
        raise BadRequestError(f"The control image {file} does not exist.", "Check the path.") from err
    except IsADirectoryError as err:
        raise BadRequestError(f"The control image {file} is a folder.", "Give a PNG or JPEG file.") from err
    except (UnidentifiedImageError, OSError) as err:
        raise BadRequestError(f"{file} is not a readable image ({err}).", "Give a PNG or JPEG file.") from err
    if mode != "RGB":
        raise BadRequestError(
            f"The control image {file.name} is in mode {mode}, not RGB.",
            "Convert it to 8-bit RGB (e.g. PIL: Image.open(p).convert('RGB').save(p)).",
        )
    if size != (size_px, size_px):
        square_and_usable = size[0] == size[1] and IMAGE_SIZE_PX.low <= size[0] <= IMAGE_SIZE_PX.high
        square_and_usable = square_and_usable and size[0] % IMAGE_SIZE_PX.multiple_of == 0
        raise BadRequestError(
            f"The control image {file.name} is {size[0]} x {size[1]} px, but --size is {size_px}.",
            f"Give a {size_px} x {size_px} image of the footprint"
            + (
                f", or pass --size {size[0]}."
                if square_and_usable
                else f" (sizes allowed: {IMAGE_SIZE_PX.describe()})."
            ),
        )
    return check_control_image(array, size_px)


class TqdmProgress:
    """A progress(step, total, message) callback drawing one tqdm bar on stderr."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar = None

    def __call__(self, done: int, total: int, message: str) -> None:
        from tqdm.auto import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.description, unit="step", file=sys.stderr, leave=False)
        self.bar.set_postfix_str(message, refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
