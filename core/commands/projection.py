"""`python -m core projection`: a place's monthly climate around 2050 / 2075 / 2100 under an SSP (CMIP6 ensemble)."""

from __future__ import annotations

import argparse

from core.commands._common import add_point_arguments, point_from, print_result, written_files
from core.commands._generation_args import add_model_arguments, add_sampling_arguments
from core.commands._prompt_context import add_context_arguments
from core.errors import BadRequestError

HELP = "projected monthly climate at a point for an SSP and a horizon year (CMIP6 ensemble, delta method)"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_point_arguments(parser)
    parser.add_argument("--ssp", required=True, help="ssp126 | ssp245 | ssp370 | ssp585 (or SSP2-4.5, ...)")
    parser.add_argument("--year", type=int, required=True, help="horizon year, 2015..2100 (e.g. 2050, 2075, 2100)")
    parser.add_argument(
        "--statistic", default="median", choices=("median", "p10", "p90"), help="ensemble statistic (default median)"
    )
    parser.add_argument(
        "--observed-years",
        default="1995-2014",
        help="years of the NASA POWER normals the changes apply to (default 1995-2014, the models' baseline)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    frames = parser.add_argument_group(
        "horizon time-lapse", "with --timelapse: a generated frame of --month for today, 2050, 2075, 2100 (to --year)"
    )
    frames.add_argument("--timelapse", metavar="OUT", help="write the frames as a captioned .gif or .mp4")
    frames.add_argument("--month", help="the month to show, YYYY-MM (its observed climate is the starting point)")
    frames.add_argument("--fps", type=float, default=1.0, help="frames per second (default 1)")
    add_context_arguments(frames)
    add_model_arguments(parser)
    add_sampling_arguments(parser)


def parse_years(text: str) -> tuple[int, int]:
    try:
        first, last = (int(part) for part in str(text).split("-"))
    except ValueError as err:
        raise BadRequestError(f"--observed-years {text!r} is not YYYY-YYYY.", "Write e.g. 1995-2014.") from err
    if not 1981 <= first <= last:
        raise BadRequestError(
            f"--observed-years {text} is not a span within NASA POWER's record (1981 on).", "Write e.g. 1995-2014."
        )
    return first, last


def format_table(projection, statistic: str = "median") -> str:
    """The projection as a fixed-width text table: observed normal, ensemble value, and p10..p90."""
    p = projection
    stats = p.statistics()
    pick = {"median": stats["median"], "p10": stats["p10"], "p90": stats["p90"]}[statistic]
    models = ", ".join(m.source_id for m in p.models)
    lines = [
        f"CMIP6 {p.scenario_label} ({p.ssp}), {p.period.horizon} = mean of {p.period.start_year}-{p.period.end_year}, "
        f"at {p.point.label()}",
        f"ensemble {statistic} of {len(p.models)} model(s): {models}",
    ]
    if p.skipped:
        lines.append("left out: " + "; ".join(f"{m} ({why})" for m, why in sorted(p.skipped.items())))
    lines.append(
        f"observed: NASA POWER normals {p.observed_years[0]}-{p.observed_years[1]}; "
        f"change of each model against its own {p.baseline_years[0]}-{p.baseline_years[1]}"
    )
    lines.append("")
    year = p.period.horizon
    header = (
        f"{'month':<5}  {'T obs':>6}  {f'T {year}':>7}  {'p10..p90 °C':>13}  {'P obs':>6}  {f'P {year}':>7}  "
        f"{'p10..p90 mm/d':>13}  {'R obs':>6}  {f'R {year}':>7}  {'p10..p90 MJ/m²/d':>16}"
    )
    lines.append(header)
    for i, name in enumerate(MONTH_NAMES):
        obs = p.observed[i]
        low, high, value = stats["p10"][i], stats["p90"][i], pick[i]
        lines.append(
            f"{name:<5}  {obs.temp_c:6.1f}  {value[0]:7.1f}  {f'{low[0]:.1f}..{high[0]:.1f}':>13}  "
            f"{obs.precip_mm_day:6.2f}  {value[1]:7.2f}  {f'{low[1]:.2f}..{high[1]:.2f}':>13}  "
            f"{obs.solar_mj_m2_day:6.1f}  {value[2]:7.1f}  {f'{low[2]:.1f}..{high[2]:.1f}':>16}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace, settings) -> int:
    from core.commands._generation_args import TqdmProgress
    from core.services import projected_climate

    if args.timelapse and not args.month:
        raise BadRequestError("--timelapse needs --month (the month to show).", "Add --month YYYY-MM.")
    if args.timelapse and not args.model:
        raise BadRequestError("--timelapse needs --model.", "Add --model sd3-medium (or tiny-random to try it).")
    if args.timelapse:
        from core.io.outputs import check_output_file

        check_output_file(args.timelapse, "--timelapse", (".gif", ".mp4"))  # before CMIP6 and the model
    progress = TqdmProgress("CMIP6 models")
    observed_years = parse_years(args.observed_years)
    try:
        projection = projected_climate(
            point_from(args), args.ssp, args.year, settings, observed_years=observed_years, progress=progress
        ).projection
    finally:
        progress.close()
    path = write_frames(args, settings, projection, observed_years) if args.timelapse else None
    if args.format == "json":  # one JSON object, with what was written in it
        print_result({**projection.as_dict(), "written": written_files(animation=path)})
    else:
        print(format_table(projection, args.statistic))
        if path:
            print(f"wrote {path}")
    return 0


def write_frames(args: argparse.Namespace, settings, projection, observed_years: tuple[int, int]):
    """Generate --month under today and each horizon, and write the captioned time-lapse."""
    from core.commands._generation_args import TqdmProgress, load_engine, request_fields, spec_from
    from core.geo import Month
    from core.services import GenerationRequest
    from core.services.projection import make_horizon_timelapse

    spec = spec_from(args)
    base = GenerationRequest(**request_fields(args, settings, projection.point, Month.parse(args.month)), model=spec)
    progress = TqdmProgress("frames")
    try:
        return make_horizon_timelapse(
            base,
            args.ssp,
            args.year,
            settings,
            args.timelapse,
            engine=load_engine(args, settings, spec),
            statistic=args.statistic,
            observed_years=observed_years,
            known={args.year: projection},
            fps=args.fps,
            progress=progress,
        )
    finally:
        progress.close()
