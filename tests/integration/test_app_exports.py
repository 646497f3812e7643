"""The app's exports as an attacker would probe them (issue 26): folders named by the server, the file route
serving a session only its own files, no server path in a message, removal at SIGTERM / SIGINT and of
leftovers of killed servers, and one upload request capped in bytes and files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.services import SessionExports, create_export_root, sweep_leftover_roots
from tests.conftest import REPO
from tests.support.app_harness import free_port

pytestmark = pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword")


def test_session_folders_are_named_by_the_server_not_by_the_client(tmp_path):
    exports = SessionExports(tmp_path)
    long_hash = "a" * 5000  # an over-long session hash once ended in an OSError carrying the folder's path
    folder = exports.folder(long_hash)
    assert folder.parent == tmp_path and len(folder.name) == 32 and "a" * 8 not in folder.name
    assert exports.folder(long_hash) == folder  # one folder per session
    assert exports.folder("../../etc").parent == tmp_path
    other = exports.folder("someone-else")
    assert other != folder and (other.stat().st_mode & 0o777) == 0o700
    (folder / "x.png").write_bytes(b"png")
    assert exports.may_read(long_hash, folder / "x.png")
    assert not exports.may_read("someone-else", folder / "x.png")
    assert not exports.may_read(None, folder / "x.png")
    assert not exports.may_read(long_hash, folder / ".." / other.name / "x.png")


def test_roots_left_by_killed_servers_are_swept_at_start(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"ecomapper-app-{dead.stdout.strip()}-abc123"
    (left / "session").mkdir(parents=True)
    (left / "session" / "x.png").write_bytes(b"png")
    alive = tmp_path / f"ecomapper-app-{os.getpid()}-def456"
    alive.mkdir()
    unrelated = tmp_path / "ecomapper-app-notapid"
    unrelated.mkdir()
    new_root = create_export_root(tmp_path)
    assert not left.exists() and alive.exists() and unrelated.exists()
    assert new_root.name.startswith(f"ecomapper-app-{os.getpid()}-")
    assert sweep_leftover_roots(tmp_path) == []


def test_messages_never_show_the_private_folders(tmp_path):
    from app.errors import hide_in_messages, without_server_paths

    root = tmp_path / "ecomapper-app-1-xyz"
    hide_in_messages(root)
    text = f"[Errno 36] File name too long: '{root}/{'b' * 300}/x.png' and {root}"
    shown = without_server_paths(text)
    assert str(root) not in shown and str(tmp_path) not in shown
    assert "…/x.png" in shown


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The app started as `python app.py` does (launch_kwargs), on a private export root."""
    from app.ui import build_ui, launch_kwargs
    from core.config import Settings

    root = tmp_path_factory.mktemp("exports-app")
    settings = Settings.from_env().with_(cache_dir=root / "cache", offline=True)
    demo = build_ui("tiny-random", settings=settings, output_dir=root / "exports")
    demo.ecomapper_max_upload_mb = 1
    port = free_port()
    demo.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
        **launch_kwargs(demo),
    )  # fmt: skip
    try:
        yield demo, f"http://127.0.0.1:{port}"
    finally:
        demo.close()


def _browser(url: str) -> httpx.Client:
    """A client that keeps cookies, as a browser does; it loads the page first."""
    client = httpx.Client(base_url=url, timeout=30)
    assert client.get("/").status_code == 200
    return client


@pytest.mark.slow
def test_the_file_route_serves_a_session_only_its_own_files(running):
    demo, url = running
    exports = demo.ecomapper_config.exports
    alice, bob = _browser(url), _browser(url)
    token = alice.cookies.get("ecomapper_session")
    assert token and token != bob.cookies.get("ecomapper_session")
    image = exports.folder(token) / "24.8000N_11.4000W_2020-02.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    route = f"/gradio_api/file={image}"
    assert alice.get(route).status_code == 200
    missing = f"/gradio_api/file={image.with_name('never-observed.png')}"
    # another browser, a client without the cookie, a missing file: the same answer, no oracle
    answers = {(c.get(r).status_code, c.get(r).text) for c in (bob, httpx.Client(base_url=url)) for r in (route,)}
    answers.add((alice.get(missing).status_code, alice.get(missing).text))
    assert answers == {(404, "File not found.")}
    sneaky = f"/gradio_api/file={exports.root}/{image.parent.name}/../{image.parent.name}/{image.name}"
    assert bob.get(sneaky).status_code == 404


@pytest.mark.slow
def test_one_upload_request_is_capped_in_bytes_and_files(running):
    _, url = running
    client = _browser(url)
    one = client.post("/gradio_api/upload", files=[("files", ("a.json", b"{}"))])
    assert one.status_code == 200 and len(one.json()) == 1
    many = client.post("/gradio_api/upload", files=[("files", (f"{i}.json", b"{}")) for i in range(500)])
    assert many.status_code == 413 and "more than 8 files" in many.text
    big = [("files", (f"{i}.bin", b"x" * 900_000)) for i in range(6)]  # each under the 1 MB per-file cap
    too_big = client.post("/gradio_api/upload", files=big)
    assert too_big.status_code == 413 and "over 1 MB in one request" in too_big.text


def _wait_for_page(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app stopped at start: {process.stderr.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("the app did not answer in time")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_export_root_is_removed_when_the_server_is_stopped_by_a_signal(tmp_path, signum):
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "GRADIO_ANALYTICS_ENABLED": "False", "ECOMAPPER_OFFLINE": "1",
           "ECOMAPPER_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--model", "tiny-random", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for_page(f"http://127.0.0.1:{port}/", process)
        roots = list(tmp_path.glob(f"ecomapper-app-{process.pid}-*"))
        assert len(roots) == 1
        (roots[0] / "session").mkdir()
        (roots[0] / "session" / "x.png").write_bytes(b"png")
        process.send_signal(signum)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not roots[0].exists()
    assert list(Path(tmp_path).glob("ecomapper-app-*")) == []


def test_an_upload_cap_outside_the_limits_is_refused_before_the_server_starts(capsys):
    from app.__main__ import parse_args

    with pytest.raises(SystemExit) as stopped:
        parse_args(["--max-upload-mb", "0"])
    assert stopped.value.code == 2
    assert "--max-upload-mb = 0 is outside 1..1024 MB" in capsys.readouterr().err
    assert parse_args(["--max-upload-mb", "20"]).max_upload_mb == 20
