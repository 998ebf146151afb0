"""Request bodies capped before anything reads them, so an oversized or unauthorised upload costs nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SMALL_BODY = 64 * 1024  # a question with its filters fits many times over


class BodyLimit:
    """ASGI middleware: 413 for a body over the route's limit, by Content-Length at once or by counting chunks; 408
    when a client stops sending its body for `wait_s` seconds (a slow client holds nothing for long)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int], wait_s: float = 30.0):
        self.app = app
        self.limit_for = limit_for
        self.wait_s = wait_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["method"], scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _refuse(send, limit)
        received = 0

        async def counted() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.wait_s)
            except TimeoutError:
                raise HTTPException(408, f"the request body stopped arriving for {self.wait_s:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body with no Content-Length
                    # Raised inside the body read, where FastAPI turns any other exception into a 400: at this
                    # transport layer the status is set here, as `_refuse` does for a Content-Length too large.
                    raise HTTPException(413, _reason(limit))
            return message

        await self.app(scope, counted, send)


def _reason(limit: int) -> str:
    return (
        f"request body larger than {limit / 2**20:.3g} MB"
        if limit >= 2**20
        else f"request body larger than {limit // 1024} KB"
    )


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _reason(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
