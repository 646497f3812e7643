"""Make the README's pictures: a screenshot of the app and a labelled time-lapse GIF.

    .venv/bin/python scripts/make_readme_assets.py [--out assets]

Both come from the tiny random test model (noise, and labelled so) and the replay servers of the
test suite (real recorded NASA POWER and STAC answers, a real Sentinel-2 COG), so they can be made
on a machine without internet or weights. Needs `bash scripts/setup.sh --dev` (Chromium, Leaflet)
and the shared fixtures beside the repository (../shared/fixtures/real).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from any folder: tests.support lives in the repo

LAT, LON, MONTH = 24.8, -11.4, "2020-02"  # the replayed Sahara point and its month with a scene
SCREEN = (1366, 768)
TIMEOUT_MS = 180_000


def make_screenshot(server, root: Path, out: Path) -> None:
    """The app after one click on the map and a "+4 °C, −30 % rain" Generate, at 1366 x 768."""
    from app.map_picker import DEFAULT_LEAFLET_URL
    from tests.support.app_harness import chromium_page, click_map_at, running_app, serve_offline, set_field
    from tests.support.replay_fixtures import settings_for

    settings = settings_for(server, root / "cache", checkpoints_dir=root / "checkpoints")
    with running_app(settings, "tiny-random", root / "outputs") as app, chromium_page(SCREEN) as page:
        serve_offline(page, DEFAULT_LEAFLET_URL)
        page.goto(app.url)
        set_field(page, "#month", MONTH)
        click_map_at(page, LAT, LON)
        page.wait_for_selector("#observed-image img", timeout=TIMEOUT_MS)
        page.locator("#presets").get_by_text("+4 °C, \u221230 % rain").click()
        page.wait_for_function(
            "() => document.querySelector('#scenario-line')?.innerText.includes('Hot and dry')", timeout=TIMEOUT_MS
        )
        page.click("#generate")
        page.wait_for_selector("#today-image img", timeout=TIMEOUT_MS)
        page.wait_for_selector(".eco-map img.eco-ai-overlay", timeout=TIMEOUT_MS)
        page.wait_for_timeout(1_000)
        shot = root / "app.png"
        page.screenshot(path=str(shot))
    _save_small_png(shot, out)


def make_timelapse(server, root: Path, out: Path) -> None:
    """`ecomapper timelapse` of three months, real beside generated, captioned, +2 °C and 30 % less rain."""
    env = {**os.environ, **server.env(), "ECOMAPPER_CACHE_DIR": str(root / "cache-cli"), "ECOMAPPER_BOUNDARIES_URL": ""}
    command = [sys.executable, "-m", "core", "timelapse", "--model", "tiny-random", "--lat", str(LAT),
               "--lon", str(LON), "--start", "2020-01", "--end", "2020-03", "--temp-delta", "2",
               "--precip-change", "-30", "--steps", "8", "--size", "192", "--side-by-side", "--fps", "1",
               "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"timelapse failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    print(json.dumps(json.loads(done.stdout)["written"]))


def _save_small_png(source: Path, out: Path) -> None:
    """A 256-colour PNG: a UI screenshot stays sharp and a few hundred kB at most."""
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "assets", help="folder for app.png and timelapse.gif")
    args = parser.parse_args()
    from tests.data.make_test_cogs import make_all
    from tests.support.app_harness import browser_unavailable_reason
    from tests.support.replay_fixtures import REAL, start_replay_server

    reason = browser_unavailable_reason() or (None if REAL.exists() else f"{REAL} is missing")
    if reason:
        parser.error(reason)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ecomapper-assets-") as tmp:
        root = Path(tmp)
        server = start_replay_server(REAL, make_all(root / "rasters"))
        try:
            make_timelapse(server, root, args.out / "timelapse.gif")
            make_screenshot(server, root, args.out / "app.png")
        finally:
            server.stop()
    for name in ("app.png", "timelapse.gif"):
        print(f"{args.out / name}: {(args.out / name).stat().st_size // 1024} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
