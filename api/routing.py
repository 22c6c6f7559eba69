"""Declaring an HTTP endpoint once: the Functions route, its error handling and its OpenAPI entry.

Every HTTP trigger of the app is declared with `endpoint(...)`, so the OpenAPI
document (api/openapi.py) is derived from the same declarations the Functions
host indexes and cannot drift from them (a test checks both directions).

The app uses HTTP streams (azurefunctions-extensions-http-fastapi) so that file
bytes flow through in chunks. With streams on, the host proxies *every* HTTP
function, so every function registered here takes a FastAPI `Request` and
returns a FastAPI `Response`. Handlers that work on whole, small bodies keep the
simple `func.HttpRequest -> func.HttpResponse` shape and are adapted here;
`streaming=True` handlers get the FastAPI request itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response
from pydantic import BaseModel

from api import errors
from api.requests import MAX_JSON_BYTES
from core.errors import ApiError, ServerError, TooLarge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryParam:
    name: str
    schema: dict
    description: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    route: str
    summary: str
    body: type[BaseModel] | None = None
    multipart: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    list_of: type[BaseModel] | None = None
    binary_response: bool = False
    event_stream: bool = False
    query: tuple[QueryParam, ...] = field(default_factory=tuple)
    tag: str = ""


OPERATIONS: list[Operation] = []

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def endpoint(blueprint, method: str, route: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             multipart: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             list_of: type[BaseModel] | None = None, binary_response: bool = False, event_stream: bool = False,
             query: tuple[QueryParam, ...] = (), durable_client: bool = False,
             streaming: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler` as the HTTP trigger for `method route` (relative to /v1).

    The function name (unique across the app) is the handler's name. Handlers are
    `def handler(req: func.HttpRequest) -> func.HttpResponse` (run in a worker
    thread, as storage calls block); with `durable_client`,
    `async def handler(req, client)` with the Durable Functions client binding;
    with `streaming`, `async def handler(req: Request) -> Response` on the
    FastAPI request itself. Errors raised as ApiError become OpenAI's envelope;
    anything else is logged and becomes a 500 `server_error` envelope.
    """

    def register(handler: Handler) -> Handler:
        async def run(call: Callable[[], Awaitable]) -> Response:
            try:
                result = await call()
            except ApiError as error:
                result = errors.response(error)
            except Exception:
                logger.exception("%s %s failed", method, route)
                result = errors.response(ServerError("The server had an error while processing your request."))
            return result if isinstance(result, Response) else to_fastapi(result)

        if streaming:
            async def http_function(req: Request) -> Response:
                return await run(lambda: handler(req))
        elif durable_client:
            async def http_function(req: Request, client) -> Response:
                async def call():
                    return await handler(await to_http_request(req), client)
                return await run(call)
        else:
            async def http_function(req: Request) -> Response:
                async def call():
                    return await asyncio.to_thread(handler, await to_http_request(req))
                return await run(call)

        http_function.__name__ = http_function.__qualname__ = handler.__name__  # the Functions function name
        http_function.__doc__ = handler.__doc__
        if durable_client:
            blueprint.route(route=route, methods=[method])(
                blueprint.durable_client_input(client_name="client")(http_function))
        else:
            blueprint.route(route=route, methods=[method])(http_function)
        OPERATIONS.append(Operation(
            name=handler.__name__, method=method, route=route, summary=summary, body=body, multipart=multipart,
            response=response, list_of=list_of, binary_response=binary_response, event_stream=event_stream,
            query=tuple(query), tag=tag))
        return handler

    return register


async def to_http_request(req: Request) -> func.HttpRequest:
    """The whole (bounded) request as the classic HttpRequest the simple handlers take."""
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise TooLarge(f"Request body too large: {declared} bytes exceeds the limit of {MAX_JSON_BYTES} bytes.")
    chunks, size = [], 0
    async for chunk in req.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise TooLarge(f"Request body too large: it exceeds the limit of {MAX_JSON_BYTES} bytes.")
        chunks.append(chunk)
    return func.HttpRequest(method=req.method, url=str(req.url), headers=dict(req.headers),
                            params=dict(req.query_params), route_params=dict(req.path_params),
                            body=b"".join(chunks))


def to_fastapi(result: func.HttpResponse) -> Response:
    headers = dict(result.headers)
    if result.mimetype and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = result.mimetype + (f"; charset={result.charset}" if result.charset else "")
    return Response(content=result.get_body(), status_code=result.status_code, headers=headers)


def pagination_params(*, max_limit: int = 100, default_limit: int = 20, before: bool = True) -> tuple[QueryParam, ...]:
    params = [
        QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
                   "How many objects to return."),
        QueryParam("order", {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
                   "Sort order by creation time."),
        QueryParam("after", {"type": "string"}, "Return objects after this id (in the requested order)."),
    ]
    if before:
        params.append(QueryParam("before", {"type": "string"}, "Return objects before this id."))
    return tuple(params)
