"""Request limits enforced before a body is read (plain ASGI, so it guards Gradio's routes too).

A body larger than its route allows is refused from its Content-Length alone; a body sent without
one (chunked) is counted as it arrives and refused at the limit, so a 300 MB POST never sits in
memory. Gradio's upload endpoint is closed: the app has no upload field, and an open endpoint
would store any file anyone sends and tell them where it is.
"""
from __future__ import annotations

import json
from typing import Callable

MB = 1024 * 1024
# An oversized body up to this size is read and thrown away before the 413, so that an ordinary
# client (which sends its whole body before reading) gets the answer instead of a reset connection.
# Nothing is kept, so memory does not grow; beyond it the connection is refused at once.
DRAIN_LIMIT = 16 * MB
CLOSED_PATHS = ("/gradio_api/upload", "/upload")  # Gradio's file uploads (the app asks for none)


def _reply(status: int, message: str):
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json; charset=utf-8"),
               (b"content-length", str(len(body)).encode()), (b"connection", b"close")]

    async def send_reply(send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return send_reply


class RequestLimits:
    """ASGI middleware: `limit_for(path)` is the largest body a path accepts, in bytes."""

    def __init__(self, app, limit_for: Callable[[str], int]):
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if any(path == p or path.startswith(p + "/") or path.startswith(p + "?") for p in CLOSED_PATHS):
            await _reply(403, "本应用不接收上传文件")(send)
            return None
        limit = self.limit_for(path)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _reply(400, "Content-Length 无效")(send)
                return None
            if declared > limit:
                if declared <= DRAIN_LIMIT:
                    await _drain(receive, DRAIN_LIMIT)
                await _reply(413, f"请求过大（超过 {_size(limit)}）")(send)
                return None
        received, started, refused = 0, False, False

        async def counted_receive():
            # Past the limit the app is told the client left, and the 413 goes out from here:
            # whatever the app does with a disconnect, the body is never read further.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        if message.get("more_body", False):
                            await _drain(receive, DRAIN_LIMIT - received)
                        await _reply(413, f"请求过大（超过 {_size(limit)}）")(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if refused:
                return  # the 413 has been sent; the app's own reply is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            return await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if refused:
                return None  # the app failed on the disconnect it was given; the client has its 413
            raise


async def _drain(receive, budget: int) -> None:
    """Read and discard the rest of a body, at most `budget` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _size(limit: int) -> str:
    return f"{limit // MB}MB" if limit >= MB else f"{limit // 1024}KB"
