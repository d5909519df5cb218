"""Two ASGI middlewares every request passes: the body size limit and the access log.

They are plain ASGI (not ``BaseHTTPMiddleware``), so streamed responses and client
disconnects pass through untouched. The limit is checked on ``Content-Length`` first
and then on the bytes actually received, so a chunked body cannot slip past it: the app
is told the client left, and the 413 is sent in place of whatever the app answers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foreplan.serve.errors import BodyTooLargeError, describe

access_log = logging.getLogger("foreplan.serve.access")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = BodyTooLargeError(f"The request body is larger than this server's limit of "
                                      f"{self.max_bytes:,} bytes.")
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _send_error(send, too_large)
            return
        received = 0
        overflow = False

        async def limited() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # The app sees the client leave; its answer is dropped and ours sent.
                    overflow = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not overflow:
                await send(message)

        try:
            await self.app(scope, limited, guarded_send)
        except Exception:
            if not overflow:
                raise
        if overflow:
            await _send_error(send, too_large)


async def _send_error(send: Send, exc: BodyTooLargeError) -> None:
    status, body, _ = describe(exc)
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class AccessLogMiddleware:
    """One structured log record per request: method, path, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            fields = {"method": scope["method"], "path": scope["path"], "status": status["code"],
                      "ms": round((time.perf_counter() - started) * 1000, 1),
                      "client": (scope.get("client") or ("-",))[0]}
            access_log.info("%(method)s %(path)s %(status)s %(ms)sms", fields, extra={"request": fields})
