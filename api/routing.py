"""Declaring an HTTP endpoint once: the Functions route, its error handling and its OpenAPI entry.

Every HTTP trigger of the app is declared with `endpoint(...)`, so the OpenAPI
document (api/openapi.py) is derived from the same declarations the Functions
host indexes and cannot drift from them (a test checks both directions).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Callable

import azure.functions as func
from pydantic import BaseModel

from api import errors
from core.errors import ApiError, ServerError

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
    query: tuple[QueryParam, ...] = field(default_factory=tuple)
    tag: str = ""


OPERATIONS: list[Operation] = []

Handler = Callable[[func.HttpRequest], func.HttpResponse]


def endpoint(blueprint, method: str, route: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
             multipart: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
             list_of: type[BaseModel] | None = None, binary_response: bool = False,
             query: tuple[QueryParam, ...] = (), durable_client: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler` as the HTTP trigger for `method route` (relative to /v1).

    The function name (unique across the app) is the handler's name. With
    `durable_client`, the handler is `async def handler(req, client)` and gets the
    Durable Functions client binding (to start, signal or stop orchestrations). Errors
    raised as ApiError become OpenAI's envelope; anything else is logged and
    becomes a 500 `server_error` envelope instead of the host's empty 500.
    """

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(req: func.HttpRequest) -> func.HttpResponse:
            try:
                return handler(req)
            except ApiError as error:
                return errors.response(error)
            except Exception:
                logger.exception("%s %s failed", method, route)
                return errors.response(ServerError("The server had an error while processing your request."))

        @functools.wraps(handler)
        async def guarded_with_client(req: func.HttpRequest, client) -> func.HttpResponse:
            try:
                return await handler(req, client)
            except ApiError as error:
                return errors.response(error)
            except Exception:
                logger.exception("%s %s failed", method, route)
                return errors.response(ServerError("The server had an error while processing your request."))

        if durable_client:  # async handler(req, client) with the Durable client binding
            blueprint.route(route=route, methods=[method])(
                blueprint.durable_client_input(client_name="client")(guarded_with_client))
        else:
            blueprint.route(route=route, methods=[method])(guarded)
        OPERATIONS.append(Operation(
            name=handler.__name__, method=method, route=route, summary=summary, body=body, multipart=multipart,
            response=response, list_of=list_of, binary_response=binary_response, query=tuple(query), tag=tag))
        return handler

    return register


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
