"""An ASGI layer in front of Gradio: a session cookie, the file route limited to the session's own exports,
and a cap on one upload request (total bytes and number of files).

Gradio serves any file of an allowed folder to whoever knows its path; the export folder holds every
session's images, so a file there is served only to the browser whose cookie owns it (404 otherwise,
the same answer as for a missing file: no oracle). Gradio caps each uploaded file, not a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote

from core.services import SessionExports

SESSION_COOKIE = "ecomapper_session"
FILE_ROUTE = "/file="
UPLOAD_ROUTE = "/upload"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def session_cookie(headers: list[tuple[bytes, bytes]] | dict) -> str | None:
    """The session cookie's value from raw ASGI headers or a plain header/cookie mapping."""
    if isinstance(headers, dict):
        return headers.get(SESSION_COOKIE)
    for name, value in headers:
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            if SESSION_COOKIE in jar:
                return jar[SESSION_COOKIE].value
    return None


class ExportGuard:
    """Wraps Gradio's ASGI app (installed with `launch(app_kwargs={"middleware": ...})`)."""

    def __init__(self, app: Callable, exports: SessionExports, max_request_bytes: int, max_files: int) -> None:
        self.app = app
        self.exports = exports
        self.max_request_bytes = max_request_bytes
        self.max_files = max_files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = session_cookie(scope.get("headers", []))
        path = scope.get("path", "")
        if FILE_ROUTE in path:
            target = unquote(path.split(FILE_ROUTE, 1)[1])
            readable = self.exports.may_read(token, target) and os.path.isfile(target)
            if self.exports.is_export(target) and not readable:
                await _answer(send, 404, "File not found.")
                return
        if scope.get("method") == "POST" and path.endswith(UPLOAD_ROUTE):
            receive = await self._checked_upload(scope, receive, send)
            if receive is None:
                return
        if token is None:
            send = _with_cookie(send, secrets.token_urlsafe(32))
        await self.app(scope, receive, send)

    async def _checked_upload(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read the whole request (bounded), refuse it when too large or with too many files, else replay it."""
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_request_bytes:
            await _answer(send, 413, f"Upload refused: over {self.max_request_bytes // 2**20} MB in one request.")
            return None
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_request_bytes:
                await _answer(send, 413, f"Upload refused: over {self.max_request_bytes // 2**20} MB in one request.")
                return None
        if _file_parts(headers.get(b"content-type", b""), bytes(body)) > self.max_files:
            await _answer(send, 413, f"Upload refused: more than {self.max_files} files in one request.")
            return None
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return replay


def _file_parts(content_type: bytes, body: bytes) -> int:
    """How many parts a multipart body has (each delimiter opens one; the closing one does not)."""
    marker = b"boundary="
    if marker not in content_type:
        return 0
    boundary = content_type.split(marker, 1)[1].split(b";", 1)[0].strip().strip(b'"')
    return max(body.count(b"--" + boundary) - 1, 0) if boundary else 0


def _with_cookie(send: Send, token: str) -> Send:
    """`send` that gives a browser without one its session cookie (HttpOnly: page scripts cannot read it)."""
    cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax".encode("latin-1")

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
        await send(message)

    return sending


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
