"""HTTP streams: functions that take a FastAPI `Request` and return a FastAPI `Response`.

With `azurefunctions-extensions-http-fastapi`, the Functions host proxies HTTP to
the worker instead of handing it whole request bodies, so a function can read
its body as a stream and stream its response. devhost does the same: the
aiohttp request becomes an ASGI scope whose `receive` yields the body chunk by
chunk, and the returned response is an ASGI app whose `send` writes through to
the client. Neither side is ever held whole in memory.
"""

from __future__ import annotations

import asyncio
import logging
import typing
from typing import Any

from aiohttp import web

try:  # the extension (and FastAPI/Starlette) are optional for apps that do not stream
    from starlette.requests import ClientDisconnect
    from starlette.requests import Request as StreamingRequest
    from starlette.responses import Response as StreamingResponseBase
except ImportError:  # pragma: no cover - exercised only without the extension installed
    StreamingRequest = StreamingResponseBase = None
    ClientDisconnect = ConnectionResetError

logger = logging.getLogger("devhost")


def takes_streaming_request(function: Any, param: str) -> bool:
    """Whether the trigger parameter is annotated with the FastAPI (Starlette) Request type."""
    if StreamingRequest is None:
        return False
    try:
        annotation = typing.get_type_hints(function).get(param)
    except Exception:  # unresolvable annotations: not a streaming function
        return False
    return isinstance(annotation, type) and issubclass(annotation, StreamingRequest)


def _scope(request: web.Request, route_params: dict[str, str]) -> dict[str, Any]:
    host, port = (request.transport.get_extra_info("sockname") or ("127.0.0.1", 0))[:2]
    peer = request.transport.get_extra_info("peername") or ("127.0.0.1", 0)
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": request.method, "scheme": "http", "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode("latin-1"),
        "query_string": request.query_string.encode("latin-1"), "root_path": "",
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1"))
                    for name, value in request.headers.items()],
        "client": peer[:2], "server": (host, port), "path_params": dict(route_params),
    }


async def invoke(function: Any, param: str, request: web.Request, route_params: dict[str, str],
                 other_arguments: dict[str, Any]) -> web.StreamResponse:
    """Call a streaming function and stream its response back through aiohttp."""
    scope = _scope(request, route_params)
    body_finished = asyncio.Event()
    response_finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if body_finished.is_set():
            await response_finished.wait()  # nothing more will come until the exchange ends
            return {"type": "http.disconnect"}
        chunk = await request.content.readany()
        if not chunk:
            body_finished.set()
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    result = await function(**{param: StreamingRequest(scope, receive), **other_arguments})
    if not isinstance(result, StreamingResponseBase):
        raise TypeError(f"a streaming function must return a FastAPI Response, not {type(result).__name__}")
    response = web.StreamResponse()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.set_status(message["status"])
            for name, value in message.get("headers", []):
                response.headers.add(name.decode("latin-1"), value.decode("latin-1"))
            await response.prepare(request)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await response.write(message["body"])

    try:
        await result(scope, receive, send)
        await response.write_eof()
    except (ClientDisconnect, ConnectionResetError):  # the client went away mid-response: nothing to answer
        logger.info("%s %s: the client disconnected before the response ended", request.method, request.path)
    finally:
        response_finished.set()
    return response
