"""Start the replay server in the foreground and print the ECOMAPPER_* exports that point at it.

    .venv/bin/python -m tests.support.serve_fixtures [--port 8765]

Then, in another shell, paste the printed `export` lines and run `python -m core climate ...`.
Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.data.make_test_cogs import make_all
from tests.support.replay_fixtures import REAL, start_replay_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-dir", type=Path, default=REAL, help="the shared real fixtures folder")
    args = parser.parse_args()
    if not args.real_dir.exists():
        parser.error(f"{args.real_dir} does not exist; the shared fixtures must sit beside the repo")
    with tempfile.TemporaryDirectory(prefix="ecomapper-replay-") as tmp:
        server = start_replay_server(args.real_dir, make_all(tmp))
        try:
            for key, value in server.env().items():
                print(f"export {key}={value}")
            print(f"# serving {args.real_dir} and test rasters in {tmp}; Ctrl-C to stop", flush=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
        finally:
            server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
