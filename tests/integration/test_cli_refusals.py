"""Bad inputs per command, in a subprocess against the replay server: exit code 2, one `error:` line,
no traceback, nothing written. Each case was a traceback, a late failure or a silent acceptance
before (the red-team table of issue 14)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ECOMAPPER_EXAMPLE, REPO
from tests.unit.test_input_limits import png_bomb

pytestmark = pytest.mark.slow  # each case starts a Python process

POINT = ["--lat", "24.8", "--lon", "-11.4"]
CONTEXT = ["--temp", "20", "--precip", "0.1", "--rad", "20", "--land-cover", "Barren or Sparsely Vegetated"]
GEN = ["generate", "--model", "tiny-random", *POINT, "--month", "2020-02", *CONTEXT, "--steps", "2", "--size", "64"]
TL = ["timelapse", "--model", "tiny-random", *POINT, "--start", "2020-01", "--end", "2020-02", *CONTEXT, "--size", "64"]
SCENE = ["scene", *POINT, "--month", "2020-02"]
BD = ["build-dataset", "--start", "2020-02", "--end", "2020-02"]
EV = ["evaluate", "--model", "tiny-random", "--data", "{D}"]
FCSV = ["--csv", "{W}/future.csv", "--out", "{W}/f"]
FUT = ["experiment", "future", "--model", "tiny-random", "--size", "64", "--steps", "2", "--text-only"]
EXT = ["experiment", "extremes", "--model", "tiny-random", "--size", "64", "--steps", "2", "--out", "{W}/x"]
SC = ["selfcheck", "--model", "tiny-random"]
RECIPE = ["generate", "--recipe", "{W}/digits.json"]
GRID = ["grid", "--model", "tiny-random", *POINT, "--month", "2020-02", *CONTEXT, "--temp-deltas", "0,2"]
CMP = ["compare", "--model", "tiny-random", *POINT, "--month", "2020-02", *CONTEXT, "--size", "64"]
CMPM = ["compare-models", "--tiny", *POINT, "--month", "2020-02", *CONTEXT, "--no-real"]
PROJ = ["projection", *POINT, "--ssp", "ssp245", "--year", "2050", "--month", "2020-02", "--model", "tiny-random"]
GF = ["gapfill", "--model", "tiny-random", *POINT, "--month", "2020-02"]

# (id, argv with {W} for the work folder, extra environment, message expected in the error line)
CASES = [
    ("scene-out-folder", [*SCENE, "--out", "{W}/folder.png"], {}, "is a folder, not a file"),
    ("scene-out-under-a-file", [*SCENE, "--out", "{W}/afile/x.png"], {}, "is a file, so the folder"),
    ("scene-meta-folder", [*SCENE, "--out", "{W}/s.png", "--meta", "{W}/folder.json"], {}, "--meta"),
    ("scene-out-jpg", [*SCENE, "--out", "{W}/s.jpg"], {}, "does not end in .png"),
    ("generate-out-folder", [*GEN, "--out", "{W}/folder.png"], {}, "--out"),
    ("generate-out-under-a-file", [*GEN, "--out", "{W}/afile/x.png"], {}, "is a file, so the folder"),
    ("generate-recipe-out-folder", [*GEN, "--out", "{W}/g.png", "--recipe-out", "{W}/folder.json"], {}, "--recipe"),
    ("generate-geotiff-folder", [*GEN, "--out", "{W}/g.png", "--geotiff", "{W}/folder.tif"], {}, "--geotiff"),
    ("generate-out-jpg", [*GEN, "--out", "{W}/s.jpg"], {}, "the format follows the extension"),
    ("generate-guidance-nan", [*GEN, "--guidance", "nan", "--out", "{W}/g.png"], {}, "--guidance = nan"),
    ("generate-size-100000", [*GEN, "--size", "100000", "--out", "{W}/g.png"], {}, "--size = 100_000 is outside"),
    ("generate-size-7", [*GEN, "--size", "7", "--out", "{W}/g.png"], {}, "--size = 7 is outside 64..1024"),
    ("generate-seed-negative", [*GEN, "--seed", "-1", "--out", "{W}/g.png"], {}, "--seed = -1"),
    ("generate-bomb-control", [*GEN, "--control-image", "{W}/bomb.png", "--out", "{W}/g.png"], {}, "too large"),
    ("generate-1px-control", [*GEN, "--control-image", "{W}/one.png", "--out", "{W}/g.png"], {}, "1 x 1 px"),
    ("recipe-nested", ["generate", "--recipe", "{W}/nested.json", "--out", "{W}/g.png"], {}, "nested too deeply"),
    ("recipe-model-list", ["generate", "--recipe", "{W}/list.json", "--out", "{W}/g.png"], {}, "model part"),
    ("recipe-bomb", ["generate", "--recipe", "{W}/bomb.json", "--out", "{W}/g.png"], {}, "over the limit"),
    ("timelapse-fps-0", [*TL, "--fps", "0", "--out", "{W}/t.gif"], {}, "--fps = 0 is outside 0.2..30 fps"),
    ("timelapse-frames-dir-file", [*TL, "--out", "{W}/t.gif", "--frames-dir", "{W}/afile"], {}, "--frames-dir"),
    ("timelapse-out-folder", [*TL, "--out", "{W}/folder.gif"], {}, "is a folder"),
    ("timelapse-batch", [*TL, "--batch-size", "100000", "--out", "{W}/t.gif"], {}, "--batch-size = 100_000"),
    ("evaluate-out-file", [*EV, "--out", "{W}/afile"], {}, "--out"),
    (
        "evaluate-size",
        [*EV, "--out", "{W}/e", "--size", "9"],
        {},
        "--size",
    ),
    ("evaluate-batch", [*EV, "--out", "{W}/e", "--batch-size", "100000"], {}, "--batch-size = 100_000 is outside"),
    ("evaluate-jpeg", [*EV, "--out", "{W}/e", "--jpeg-quality", "1000"], {}, "--jpeg-quality = 1000 is outside"),
    ("evaluate-img2img-nan", [*EV, "--out", "{W}/e", "--img2img-previous", "nan"], {}, "--img2img-previous = nan"),
    ("train-output-dir-file", ["train", "--config", "{W}/t.toml", "--output-dir", "{W}/afile"], {}, "output_dir"),
    ("train-seed-negative", ["train", "--config", "{W}/seed.toml"], {}, "seed = -1 is outside"),
    ("train-resolution", ["train", "--config", "{W}/res.toml"], {}, "resolution_px = 100_000 is outside"),
    ("train-batch", ["train", "--config", "{W}/batch.toml"], {}, "batch_size = 100_000 is outside"),
    ("train-alpha-nan", ["train", "--config", "{W}/alpha.toml"], {}, "alpha = nan"),
    ("build-dataset-out-file", [*BD, "--locations", "{W}/locs.csv", "--out", "{W}/afile"], {}, "--out"),
    ("build-dataset-binary-csv", [*BD, "--locations", "{W}/binary.csv", "--out", "{W}/bd"], {}, "not a text CSV"),
    ("build-dataset-size", [*BD, "--locations", "{W}/locs.csv", "--size", "100000", "--out", "{W}/bd"], {}, "--size"),
    ("build-dataset-id-traversal", [*BD, "--locations", "{W}/climb-locs.csv", "--out", "{W}/bd"], {}, "../../climbed"),
    (
        "build-dataset-912-months",
        [*BD, "--locations", "{W}/locs.csv", "--start", "1950-01", "--end", "2025-12", "--out", "{W}/bd"],
        {},
        "months from --start to --end = 912 is outside 1..600",
    ),
    (
        "build-dataset-6m-images",
        [*BD, "--locations", "{W}/100k-locs.csv", "--start", "2015-01", "--end", "2019-12", "--out", "{W}/bd"],
        {},
        "locations x months = 6_000_000 is outside",
    ),
    ("build-dataset-size-7", [*BD, "--locations", "{W}/locs.csv", "--size", "7", "--out", "{W}/bd"], {}, "--size"),
    # issue 26: a location id that climbs out of --out (future wrote <id>_2050-02.png outside and exited 0)
    ("future-id-traversal", [*FUT, "--csv", "{W}/climb.csv", "--out", "{W}/f/g"], {}, "location id '../../climbed'"),
    ("future-id-separator", [*FUT, "--csv", "{W}/slash.csv", "--out", "{W}/f"], {}, "location id 'a/b'"),
    ("future-seed-negative", [*FUT, *FCSV, "--seed", "-1"], {}, "--seed = -1"),
    ("future-steps-0", [*FUT, *FCSV, "--steps", "0"], {}, "--steps = 0"),
    ("future-guidance-nan", [*FUT, *FCSV, "--guidance", "nan"], {}, "nan"),
    ("future-size", [*FUT, *FCSV, "--size", "99999"], {}, "--size = 99999 is outside"),
    # issue 26: unbounded or unchecked experiment inputs
    ("extremes-10000-seeds", [*EXT, "--seeds", ",".join(map(str, range(10_000)))], {}, "number of --seeds = 10000"),
    ("extremes-seed-negative", [*EXT, "--seeds", "-1"], {}, "--seeds = -1"),
    ("extremes-guidance-nan", [*EXT, "--guidance", "nan"], {}, "--guidance = nan"),
    ("extremes-steps-negative", [*EXT, "--steps", "-5"], {}, "--steps = -5"),
    ("extremes-steps-absurd", [*EXT, "--steps", "100000"], {}, "--steps = 100_000"),
    ("extremes-size", [*EXT, "--size", "99999"], {}, "--size = 99999 is outside"),
    ("extremes-location-traversal", [*EXT, "--locations", "../../climbed"], {}, "location '../../climbed'"),
    ("future-land-cover", [*FUT, "--csv", "{W}/moon.csv", "--out", "{W}/f"], {}, "'Moon Rock' is not a land-cover"),
    ("gapfill-cases-0", ["gapfill", "--evaluate", "{D}", "--cases", "0"], {}, "--cases = 0 is outside 1..10000"),
    ("extremes-land-cover", [*EXT, "--land-covers", "Moon Rock"], {}, "Moon Rock"),
    ("extremes-month", [*EXT, "--months", "Smarch"], {}, "Smarch"),
    ("selfcheck-size", [*SC, "--size", "99999"], {}, "--size = 99999 is outside"),
    ("selfcheck-steps", [*SC, "--steps", "-1"], {}, "--steps = -1"),
    ("gapfill-size", [*GF, "--size", "99999", "--out", "{W}/gf.png"], {}, "--size = 99999 is outside"),
    ("cache-dir-file", ["climate", *POINT, "--start", "2020-01", "--end", "2020-01"], {"CACHE": "afile"}, "CACHE_DIR"),
    ("timeout-nan", ["climate", *POINT, "--start", "2020-01", "--end", "2020-01"], {"T": "nan"}, "TIMEOUT_S = nan"),
    ("timeout-inf", ["climate", *POINT, "--start", "2020-01", "--end", "2020-01"], {"T": "inf"}, "TIMEOUT_S = inf"),
    ("climate-1900", ["climate", *POINT, "--start", "1900-01", "--end", "1900-02"], {}, "no climate data before 1981"),
    # issue 26: these ended in "unexpected X (a bug...)", hung, or were silently ignored
    ("generate-corrupt-lora", [*GEN, "--lora", "{W}/bad.safetensors", "--out", "{W}/g.png"], {}, "The LoRA"),
    ("recipe-5000-digits", ["generate", "--recipe", "{W}/digits.json", "--out", "{W}/g.png"], {}, "4300 digits"),
    ("train-binary-toml", ["train", "--config", "{W}/binary.toml"], {}, "binary.toml is not UTF-8 text"),
    ("generate-fifo-control", [*GEN, "--control-image", "{W}/fifo.png", "--out", "{W}/g.png"], {}, "FIFO"),
    # issue 26: output paths were found bad after 11-26 s of generation; compare-models wrote PNG bytes to .jpg
    ("grid-out-under-a-file", [*GRID, "--out", "{W}/afile/g.png"], {}, "is a file, so the folder"),
    ("grid-out-jpg", [*GRID, "--out", "{W}/g.jpg"], {}, "does not end in .png"),
    ("compare-out-dir-under-a-file", [*CMP, "--out-dir", "{W}/afile/c"], {}, "is a file, so the folder"),
    ("compare-models-jpg", [*CMPM, "--out", "{W}/cm.jpg"], {}, "does not end in .png"),
    ("compare-models-json", [*CMPM, "--out", "{W}/cm.png", "--json", "{W}/afile/x.json"], {}, "--json"),
    ("selfcheck-out-under-a-file", [*SC, "--out", "{W}/afile/sc"], {}, "is a file, so the folder"),
    ("gapfill-out-under-a-file", [*GF, "--out", "{W}/afile/gf.png"], {}, "is a file, so the folder"),
    ("projection-timelapse-png", [*PROJ, "--timelapse", "{W}/p.png"], {}, "does not end in .gif or .mp4"),
    ("build-dataset-fifo-locations", [*BD, "--locations", "{W}/fifo.png", "--out", "{W}/bd"], {}, "FIFO"),
    ("recipe-fifo", ["generate", "--recipe", "{W}/fifo.png", "--out", "{W}/g.png"], {}, "FIFO"),
    ("train-config-folder", ["train", "--config", "{W}/folder.json"], {}, "is a folder, not a file"),
    ("recipe-with-steps", [*RECIPE, "--steps", "3", "--out", "{W}/g.png"], {}, "--steps 3 cannot be used with"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The inputs every case points at (made once)."""
    from PIL import Image

    from tests.unit.test_input_limits import _recipe

    work = tmp_path_factory.mktemp("bad-inputs")
    for name in ("folder.png", "folder.json", "folder.tif", "folder.gif"):
        (work / name).mkdir()
    (work / "afile").write_text("x")
    png_bomb(work / "bomb.png", 20000)
    Image.new("RGB", (1, 1)).save(work / "one.png")
    (work / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    _recipe(work, "list.json", model=["tiny-random"])
    import base64

    bomb = base64.b64encode(png_bomb(work / "small-bomb.png", 5000).read_bytes()).decode()
    _recipe(work, "bomb.json", mode="controlnet", control_image_png_base64=bomb)
    (work / "binary.csv").write_bytes(bytes(range(256)) * 40)
    (work / "bad.safetensors").write_bytes(b"not a safetensors file")
    (work / "binary.toml").write_bytes(b"\xff\xfe\x00binary")
    os.mkfifo(work / "fifo.png")  # nothing ever writes to it: a read would block forever
    digits = _recipe(work, "digits.json")
    digits.write_text(re.sub(r'"seed": \d+', '"seed": ' + "9" * 5000, digits.read_text()))
    (work / "locs.csv").write_text("lat,lon\n24.8,-11.4\n")
    (work / "100k-locs.csv").write_text("lat,lon\n" + "24.8,-11.4\n" * 100_000)
    (work / "climb-locs.csv").write_text("location_id,lat,lon\n../../climbed,24.8,-11.4\n")
    for name, location_id, cover in (
        ("climb", "../../climbed", "Evergreen Needleleaf Forests"),
        ("slash", "a/b", "Evergreen Needleleaf Forests"),
        ("future", "1", "Evergreen Needleleaf Forests"),
        ("moon", "1", "Moon Rock"),
    ):
        (work / f"{name}.csv").write_text(
            "location_id,date,type,cloud_coverage,location_address,average_temp,average_prep,average_rad\n"
            f'{location_id},2017-07,{cover},0.0,"British Columbia, Canada",14.4,0.8,23.6\n'
        )
    preset = (REPO / "assets" / "presets" / "train_lora_tiny.toml").read_text()
    preset = preset.replace('data_dir = "../shared/fixtures/ecomapper_example/2017-2018"', f'data_dir = "{work}"')
    (work / "t.toml").write_text(preset)
    for name, (old, new) in {
        "seed": ("seed = 0", "seed = -1"),
        "res": ("resolution_px = 64", "resolution_px = 100000"),
        "batch": ("batch_size = 2", "batch_size = 100000"),
        "alpha": ("alpha = 4.0", "alpha = nan"),
    }.items():
        (work / f"{name}.toml").write_text(preset.replace(old, new))
    return work


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "cache" not in p.relative_to(folder).parts}


@pytest.mark.parametrize(("argv", "env", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_input_is_one_error_line_and_writes_nothing(replay_server, workdir, argv, env, expected):
    data = ECOMAPPER_EXAMPLE / "2017-2018" if ECOMAPPER_EXAMPLE.exists() else workdir
    args = [a.replace("{W}", str(workdir)).replace("{D}", str(data)) for a in argv]
    environ = {
        **os.environ,
        **replay_server.env(),
        "ECOMAPPER_CACHE_DIR": str(workdir / "cache"),
        "ECOMAPPER_RETRIES": "0",
        "ECOMAPPER_BACKOFF_S": "0",
    }
    if "CACHE" in env:
        environ["ECOMAPPER_CACHE_DIR"] = str(workdir / env["CACHE"])
    if "T" in env:
        environ["ECOMAPPER_TIMEOUT_S"] = env["T"]
    before = _listing(workdir)
    done = subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert expected in lines[0], lines[0]
    assert done.stdout == ""
    assert _listing(workdir) == before  # nothing written (no orphan PNG, no half output folder)
    assert replay_server.requests == []  # refused before any fetch
