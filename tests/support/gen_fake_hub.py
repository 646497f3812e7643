"""A local stand-in for the Hugging Face Hub's HTTP API, serving a folder as a model repository.

It speaks the part of the protocol `huggingface_hub.snapshot_download` uses (repo info, recursive
tree listing, HEAD/GET on resolve URLs with X-Repo-Commit / ETag headers), and can answer like a
gated repository does (401 with `X-Error-Code: GatedRepo`, as huggingface_hub's
`hf_raise_for_status` expects). Runs on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serve `folder` as repository `repo_id`; `gated=True` refuses everything like a gated repo."""

    def __init__(self, repo_id: str, folder: Path, gated: bool = False) -> None:
        self.repo_id = repo_id
        self.folder = folder
        self.gated = gated
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_HEAD(self):
                hub._answer(self, head=True)

            def do_GET(self):
                hub._answer(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())

    def _send(self, handler, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _json(self, handler, obj, head: bool) -> None:
        self._send(handler, 200, json.dumps(obj).encode(), {"Content-Type": "application/json"}, head)

    def _answer(self, handler, head: bool) -> None:
        path = unquote(urlparse(handler.path).path)
        self.requests.append(f"{handler.command} {path}")
        if self.gated:
            message = f"Access to model {self.repo_id} is restricted. You must have access to it and be authenticated."
            headers = {"X-Error-Code": "GatedRepo", "X-Error-Message": message, "Content-Type": "application/json"}
            self._send(handler, 401, json.dumps({"error": message}).encode(), headers, head)
            return
        info_prefix = f"/api/models/{self.repo_id}/revision/"
        tree_prefix = f"/api/models/{self.repo_id}/tree/"
        file_prefix = f"/{self.repo_id}/resolve/"
        if path.startswith(info_prefix):
            siblings = [{"rfilename": p.relative_to(self.folder).as_posix()} for p in self._files()]
            self._json(handler, {"id": self.repo_id, "sha": COMMIT, "siblings": siblings, "private": False}, head)
        elif path.startswith(tree_prefix):
            entries = [
                {
                    "type": "file",
                    "path": p.relative_to(self.folder).as_posix(),
                    "size": p.stat().st_size,
                    "oid": hashlib.sha1(p.read_bytes()).hexdigest(),
                }
                for p in self._files()
            ]
            self._json(handler, entries, head)
        elif path.startswith(file_prefix):
            relative = path[len(file_prefix) :].split("/", 1)[1]
            target = self.folder / relative
            if not target.is_file():
                self._send(handler, 404, b"{}", {"X-Error-Code": "EntryNotFound"}, head)
                return
            data = target.read_bytes()
            headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
            self._send(handler, 200, data, headers, head)
        else:
            self._send(handler, 404, b"{}", {"X-Error-Code": "RepoNotFound"}, head)
