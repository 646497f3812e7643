"""The command line takes what people type: global flags after the command, negative numbers and
negative lists without `=`, and a missing package named in one line."""

from __future__ import annotations

import subprocess
import sys

from core.cli import build_parser, join_negative_values
from tests.conftest import REPO


def test_negative_values_and_lists_are_joined_to_their_option():
    argv = ["grid", "--temp-deltas", "-2,0,2", "--precip-changes", "-30,0", "--lat", "-1.5", "--seed", "3"]
    assert join_negative_values(argv) == [
        "grid", "--temp-deltas=-2,0,2", "--precip-changes=-30,0", "--lat=-1.5", "--seed", "3"
    ]  # fmt: skip
    assert join_negative_values(["--model", "-tiny"]) == ["--model", "-tiny"]  # not a number: left alone
    args = build_parser().parse_args(
        join_negative_values(["build-dataset", "--sample", "2", "--bbox", "-10,35,5,45", "--start", "2020-01",
                              "--end", "2020-01", "--out", "x"])
    )  # fmt: skip
    assert args.bbox == "-10,35,5,45"


def test_global_flags_are_accepted_after_the_command():
    parser = build_parser()
    after = parser.parse_args(["prompt", "--lat", "1", "--lon", "2", "--month", "2020-01", "--offline", "-vv"])
    assert after.offline is True and after.verbose == 2
    before = parser.parse_args(["--offline", "prompt", "--lat", "1", "--lon", "2", "--month", "2020-01"])
    assert before.offline is True and before.verbose == 0


def test_a_python_without_the_packages_gets_one_line_naming_the_package_and_the_fix(tmp_path):
    # A Python whose `numpy` cannot be imported, as the system Python of a machine without our venv.
    (tmp_path / "numpy.py").write_text("raise ModuleNotFoundError(\"No module named 'numpy'\", name='numpy')\n")
    probe = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from core.cli import main; raise SystemExit(main())"
    done = subprocess.run(
        [sys.executable, "-c", probe, "generate", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "'numpy' is not installed" in done.stderr
    assert "bash scripts/setup.sh" in done.stderr and "a bug" not in done.stderr


def test_a_command_imports_only_its_own_module():
    probe = (
        "import sys\n"
        "from core.cli import main\n"
        "try:\n    main(['climate', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m.split('.')[-1] for m in sys.modules if m.startswith('core.commands.') and "
        "not m.split('.')[-1].startswith('_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['climate']"


def test_one_flag_name_per_concept_and_the_former_names_still_parse():
    """Issue 25: `--out` in every command (compare had --out-dir, train --output-dir) and grid's scenario flags
    named as everywhere else (--temp-delta / --precip-change, with lists); the former names are aliases."""
    parser = build_parser()
    place = ["--lat", "24.8", "--lon", "-11.4", "--month", "2020-02"]
    for new, old in (
        (["compare", *place, "--out", "cmp"], ["compare", *place, "--out-dir", "cmp"]),
        (["train", "--config", "t.toml", "--out", "runs/x"], ["train", "--config", "t.toml", "--output-dir", "runs/x"]),
        (["grid", *place, "--temp-delta", "0,4", "--precip-change=-30,0", "--out", "g.png"],
         ["grid", *place, "--temp-deltas", "0,4", "--precip-changes=-30,0", "--out", "g.png"]),
    ):  # fmt: skip
        assert vars(parser.parse_args(new)) == vars(parser.parse_args(old)), new[0]
    grid = parser.parse_args(join_negative_values(["grid", *place, "--precip-change", "-30,0", "--out", "g.png"]))
    assert (grid.temp_deltas, grid.precip_changes) == ("0,2,4", "-30,0")
    assert str(parser.parse_args(["compare", *place, "--out-dir", "cmp"]).out) == "cmp"


def test_a_busy_port_gives_one_line_and_exit_2_before_the_app_loads():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "app", "--port", str(port), "--model", "tiny-random"],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert f"--port {port + 1}" in done.stderr and "Traceback" not in done.stderr
