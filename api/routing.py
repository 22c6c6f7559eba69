"""Declaring an HTTP endpoint once: its Functions routes, who may call it, errors and its OpenAPI entry.

Every HTTP trigger of the app is declared with `endpoint(...)`, so the OpenAPI
document (api/openapi.py) is derived from the same declarations the Functions
host indexes and cannot drift from them (a test checks both directions).

One declaration serves both URL shapes (host.json's routePrefix is empty):
`/v1/<route>` for `OpenAI(base_url=<root>/v1)` and `/openai/<azure_route>?api-version=...`
for `AzureOpenAI(azure_endpoint=<root>)`; the Azure one is a second Functions
function (`<name>_azure`) on the same handler that first checks `api-version`.
Before any handler runs, the caller is authenticated (core/identity.py) and its
principal is handed to the handler as its last argument, `principal`.

The app uses HTTP streams (azurefunctions-extensions-http-fastapi) so that file
bytes flow through in chunks. With streams on, the host proxies *every* HTTP
function, so every function registered here takes a FastAPI `Request` and
returns a FastAPI `Response`. Handlers that work on whole, small bodies keep the
simple `func.HttpRequest -> func.HttpResponse` shape and are adapted here;
`streaming=True` handlers get the FastAPI request itself.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response
from pydantic import BaseModel

from api import api_versions, errors
from api.requests import MAX_JSON_BYTES
from core import api_keys, identity, request_origin
from core.errors import ApiError, ServerError, TooLarge

logger = logging.getLogger(__name__)

OPENAI_PREFIX = "v1"
AZURE_PREFIX = "openai"
AZURE_SUFFIX = "_azure"
AZURE_V1_SUFFIX = "_azure_v1"


@dataclass(frozen=True)
class QueryParam:
    """A query parameter as an endpoint's OpenAPI entry documents it (the handler parses it itself)."""

    name: str
    schema: dict | Callable[[], dict]  # a callable when it needs what a start does not load (the tool plug-ins)
    description: str = ""

    def json_schema(self) -> dict:
        return self.schema() if callable(self.schema) else self.schema


@dataclass(frozen=True)
class Operation:
    """One endpoint as `endpoint(...)` declares it: its Functions routes and its OpenAPI entry are built from it."""

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
    azure_route: str = ""
    public: bool = False
    streams_response: bool = False
    openai_v1: bool = False  # also at /openai/v1/<route>: Azure OpenAI's v1 API (no api-version)

    def shapes(self) -> tuple[tuple[str, str, bool], ...]:
        """(function name, full route, is the Azure shape) for each URL shape this operation is served at."""
        v1 = ((self.name + AZURE_V1_SUFFIX, f"{AZURE_PREFIX}/{OPENAI_PREFIX}/{self.route}", False),) \
            if self.openai_v1 else ()
        return ((self.name, f"{OPENAI_PREFIX}/{self.route}", False),
                (self.name + AZURE_SUFFIX, f"{AZURE_PREFIX}/{self.azure_route or self.route}", True), *v1)


OPERATIONS: list[Operation] = []

# A handler in one of the shapes `endpoint` documents (sync, async, with the durable client, streaming);
# it is registered as it is and returned unchanged.
Handler = TypeVar("Handler", bound=Callable[..., Any])


def endpoint(blueprint, method: str, route: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             multipart: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             list_of: type[BaseModel] | None = None, binary_response: bool = False, event_stream: bool = False,
             query: tuple[QueryParam, ...] = (), durable_client: bool = False,
             streaming: bool = False, azure_route: str = "", public: bool = False,
             streams_response: bool = False, openai_v1: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler` as the HTTP trigger for `method route` under /v1 and under /openai.

    `route` is relative to the prefix; `azure_route` names the Azure shape when it
    differs (e.g. `deployments/{deployment}/chat/completions`). The function name
    (unique across the app) is the handler's name, `_azure` appended for the Azure
    shape. Handlers are `def handler(req: func.HttpRequest, principal: str) -> func.HttpResponse`
    (run in a worker thread, as storage calls block); with `durable_client`,
    `async def handler(req, client, principal)` with the Durable Functions client binding
    (or `async def handler(req, principal)` for one that awaits without a thread); with
    `streaming`, `async def handler(req: Request, principal: str) -> Response` on the FastAPI
    request itself. Every call is authenticated first, and the caller's principal is the
    handler's last argument: the one identity it acts as (never read from the request itself).
    A `public` endpoint is not authenticated and its handler takes no `principal`.
    Errors raised as ApiError become OpenAI's envelope; anything else is logged
    and becomes a 500 `server_error` envelope.
    """

    def register(handler: Handler) -> Handler:
        operation = Operation(
            name=handler.__name__, method=method, route=route, summary=summary, body=body, multipart=multipart,
            response=response, list_of=list_of, binary_response=binary_response, event_stream=event_stream,
            query=tuple(query), tag=tag,
            azure_route=azure_route, public=public, streams_response=streams_response, openai_v1=openai_v1)

        def serve(azure: bool) -> Callable[..., Awaitable[Response]]:
            async def run(req: Request, call: Callable[..., Awaitable]) -> Response:
                """`call(principal)` runs the handler as the authenticated caller (`call()` when public)."""
                try:
                    if azure:
                        api_versions.check(req.query_params.get(api_versions.PARAM))
                    if public:
                        result = await call()
                    else:
                        caller = await asyncio.to_thread(authenticate, req.headers)
                        request_origin.check(caller.via, req.headers, reads_json=multipart is None)
                        result = await call(caller.principal)
                except ApiError as error:
                    result = errors.response(error)
                except Exception:
                    logger.exception("%s %s failed", method, route)
                    result = errors.response(ServerError("The server had an error while processing your request."))
                return result if isinstance(result, Response) else to_fastapi(result)

            # The parameters' names and annotations are what the Functions worker binds (`client` has none).
            if streaming:
                async def streamed(req: Request) -> Response:
                    return await run(req, lambda *principal: handler(req, *principal))
                return streamed
            elif durable_client:
                async def with_client(req: Request, client) -> Response:
                    async def call(*principal: str):
                        return await handler(await to_http_request(req), client, *principal)
                    return await run(req, call)
                return with_client
            elif inspect.iscoroutinefunction(handler):  # waits without holding a thread (e.g. a held poll)
                async def awaiting(req: Request) -> Response:
                    async def call(*principal: str):
                        return await handler(await to_http_request(req), *principal)
                    return await run(req, call)
                return awaiting
            else:
                async def in_thread(req: Request) -> Response:
                    async def call(*principal: str):
                        return await asyncio.to_thread(handler, await to_http_request(req), *principal)
                    return await run(req, call)
                return in_thread

        for name, full_route, azure in operation.shapes():
            http_function = serve(azure)
            http_function.__name__ = http_function.__qualname__ = name  # the Functions function name
            http_function.__doc__ = handler.__doc__
            if durable_client:
                blueprint.route(route=full_route, methods=[method])(
                    blueprint.durable_client_input(client_name="client")(http_function))
            else:
                blueprint.route(route=full_route, methods=[method])(http_function)
        OPERATIONS.append(operation)
        return handler

    return register


def authenticate(headers) -> identity.Caller:
    """The caller of a request (blocking: a presented key is looked up in storage)."""
    return identity.authenticate(headers, identity.config_from_settings(), api_keys.default_keys().principal_for)


async def bounded_body(req: Request) -> bytes:
    """The whole request body, refused with 413 past MAX_JSON_BYTES (declared or as it streams)."""
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise TooLarge(f"Request body too large: {declared} bytes exceeds the limit of {MAX_JSON_BYTES} bytes.")
    chunks, size = [], 0
    async for chunk in req.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise TooLarge(f"Request body too large: it exceeds the limit of {MAX_JSON_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def to_http_request(req: Request) -> func.HttpRequest:
    """The whole (bounded) request as the classic HttpRequest the simple handlers take."""
    return func.HttpRequest(method=req.method, url=str(req.url), headers=dict(req.headers),
                            params=dict(req.query_params), route_params=dict(req.path_params),
                            body=await bounded_body(req))


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
