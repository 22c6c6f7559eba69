"""GET /v1/openapi.json: an OpenAPI 3.1 document of both URL shapes, generated from the endpoint declarations."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import azure.durable_functions as df
import azure.functions as func
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from api import api_versions
from api.requests import json_response
from api.routing import OPERATIONS, Operation, endpoint
from core.wire.common import ErrorEnvelope, ListObject

bp = df.Blueprint()

_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REF = "#/components/schemas/{model}"


def document() -> dict:
    """The whole HTTP surface as OpenAPI 3.1 (schemas from the pydantic wire models)."""
    models: set[type[BaseModel]] = {ErrorEnvelope, ListObject}
    for operation in OPERATIONS:
        models.update(m for m in (operation.body, operation.multipart, operation.response, operation.list_of) if m)
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)]
    _, top = models_json_schema(modes, ref_template=_REF)
    paths: dict = {}
    for operation in OPERATIONS:
        for name, route, azure in operation.shapes():
            paths.setdefault("/" + route, {})[operation.method.lower()] = _operation(operation, name, route, azure)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Assistants API in-a-Box",
            "version": "v2",
            "description": "The OpenAI Assistants API (v2), self-hosted on Azure Functions.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "api-key",
                           "description": "A key issued by the service (python -m core.api_keys create)."},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A key issued by the service, or an Entra token with App Service "
                                          "Authentication on."},
            },
        },
        "security": [{"apiKey": []}, {"bearer": []}],
    }


def _ref(model) -> dict:
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(operation: Operation, name: str, route: str, azure: bool) -> dict:
    parameters = [
        {"name": param, "in": "path", "required": True, "schema": {"type": "string"}}
        for param in _PATH_PARAM.findall(route)
    ]
    if azure:
        parameters.append({"name": api_versions.PARAM, "in": "query", "required": True,
                           "schema": {"type": "string", "enum": sorted(api_versions.SUPPORTED)},
                           "description": "Azure OpenAI data-plane API version (AzureOpenAI client)."})
    parameters += [
        {"name": param.name, "in": "query", "required": False, "schema": param.json_schema(), "description": param.description}
        for param in operation.query
    ]
    success: dict[str, dict[str, Any]]
    if operation.event_stream:
        success = {"text/event-stream": {"schema": {"type": "string", "description": (
            "Server-sent events: `id: <n>`, `event: <thread.* name>`, `data: <JSON>`; ends with `event: done`.")}}}
    elif operation.binary_response:
        success = {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}
    elif operation.streams_response:
        success = {"application/json": {"schema": {"type": "object"}},
                   "text/event-stream": {"schema": {"type": "string"}}}
    elif operation.list_of:
        listing = {"allOf": [_ref(ListObject), {"properties": {"data": {"type": "array", "items": _ref(operation.list_of)}}}]}
        success = {"application/json": {"schema": listing}}
    else:
        success = {"application/json": {"schema": _ref(operation.response) if operation.response else {}}}
    error = {"content": {"application/json": {"schema": _ref(ErrorEnvelope)}}}
    result = {
        "operationId": name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": success},
            "400": {"description": "Invalid request", **error},
            "401": {"description": "No key, or a key this service did not issue", **error},
            "403": {"description": "A platform-authenticated caller the operator has not allowed in", **error},
            "404": {"description": "Unknown id, or owned by another principal", **error},
            "413": {"description": "Request too large", **error},
        },
    }
    if operation.public:
        result["security"] = []
    if operation.body:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(operation.body)}}}
    if operation.multipart:  # (with `body` too, the endpoint takes either)
        content = {"multipart/form-data": {"schema": _ref(operation.multipart)}}
        if operation.body:
            content["application/json"] = {"schema": _ref(operation.body)}
        result["requestBody"] = {"required": True, "content": content}
    return result


@lru_cache(maxsize=1)
def _cached() -> dict:
    return document()


@endpoint(bp, "GET", "openapi.json", summary="This OpenAPI document", tag="meta", public=True)
def openapi_document(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(_cached())
