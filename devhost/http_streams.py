"""HTTP streams: functions that take a FastAPI `Request` and return a FastAPI `Response`.

With `azurefunctions-extensions-http-fastapi`, the Functions host proxies HTTP to
the worker instead of handing it whole request bodies, so a function can read
its body as a stream and stream its response. devhost serves ASGI itself, so such
a function gets the server's own request (its `receive` yields the body chunk by
chunk) and its response, an ASGI app, sends straight to the client. Neither side
is ever held whole in memory.
"""

from __future__ import annotations

import logging
import typing
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.requests import Request as StreamingRequest
from starlette.responses import Response as StreamingResponseBase

logger = logging.getLogger("devhost")


def takes_streaming_request(function: Any, param: str) -> bool:
    """Whether the trigger parameter is annotated with the FastAPI (Starlette) Request type."""
    try:
        annotation = typing.get_type_hints(function).get(param)
    except Exception:  # unresolvable annotations: not a streaming function
        return False
    return isinstance(annotation, type) and issubclass(annotation, StreamingRequest)


async def invoke(function: Any, param: str, scope: dict[str, Any], receive, send, route_params: dict[str, str],
                 other_arguments: dict[str, Any]) -> None:
    """Call a streaming function with the request as served and send its response as it streams."""
    scope = {**scope, "path_params": dict(route_params)}
    result = await function(**{param: StreamingRequest(scope, receive), **other_arguments})
    if not isinstance(result, StreamingResponseBase):
        raise TypeError(f"a streaming function must return a FastAPI Response, not {type(result).__name__}")
    try:
        await result(scope, receive, send)
    except (ClientDisconnect, ConnectionResetError):  # the client went away mid-response: nothing to answer
        logger.info("%s %s: the client disconnected before the response ended", scope["method"], scope["path"])
