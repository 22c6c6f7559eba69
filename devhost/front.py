"""What the host does before any function sees a request, and after one fails.

The Functions host refuses request bodies over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT:
from Content-Length up front, or while a body without one streams in. This is the
one place devhost enforces it, so neither the functions nor the Durable API read
past it, and nothing here ever holds a body. Once a body overflows, the 413 stands
whatever the function makes of the error; when the app fails before it started its
response the client gets a bare 500, as from the host.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("devhost")

# The host's own default when FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is unset (100 MB). devhost stands in for
# the host, so it reads the host's variable itself rather than through the app's core.settings.
DEFAULT_BODY_LIMIT = 104_857_600


def body_limit() -> int:
    return int(os.environ.get("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT") or DEFAULT_BODY_LIMIT)


class BodyTooLarge(Exception):
    """The request body grew past the limit while streaming in."""


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length the client announced, None when absent or unreadable (the server rejects those)."""
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def bare_status(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


class Front:
    """The ASGI app uvicorn serves: enforces the body limit around `app` and runs `on_shutdown` at exit."""

    def __init__(self, app: ASGIApp, limit: int, on_shutdown: Callable[[], Awaitable[None]]):
        self._app = app
        self._limit = limit
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = declared_length(scope["headers"])
        if declared is not None and declared > self._limit:
            await bare_status(send, 413)
            return
        received = 0
        overflowed = started = False

        async def limited_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    overflowed = True
                    raise BodyTooLarge(f"request body over {self._limit} bytes")
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if overflowed and not started:
                return  # the host refused the body: whatever the function answers to that is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        failed = False
        try:
            await self._app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            pass
        except Exception:  # like the host: the exception in the log, a bare 500 to the client
            logger.exception("%s %s raised", scope["method"], scope["path"])
            failed = True
        if (overflowed or failed) and not started:
            await bare_status(send, 413 if overflowed else 500)
        # A response already under way cannot change status: the server closes the connection.

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
