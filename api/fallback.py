"""Unknown routes and methods: OpenAI's error envelope instead of the host's empty 404.

One catch-all function, the least specific route there is, answers whatever no
declared endpoint takes: 405 when the path is served with other methods, 404
otherwise, worded as OpenAI words it ("Invalid URL (GET /v1/foo)"), so the SDK
raises NotFoundError with a message instead of a bare "Error code: 404".
No authentication: the answer reveals only what the OpenAPI document publishes.
"""

from __future__ import annotations

import json

import azure.durable_functions as df
from azurefunctions.extensions.http.fastapi import Request, Response

from api.routing import OPERATIONS, Operation
from core.errors import ApiError

bp = df.Blueprint()
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _matches(template: str, path: str) -> bool:
    wanted = [part for part in template.strip("/").split("/") if part]
    given = [part for part in path.strip("/").split("/") if part]
    return len(wanted) == len(given) and all(
        (w.startswith("{") and w.endswith("}")) or w.lower() == g.lower() for w, g in zip(wanted, given))


def methods_for(path: str, operations: list[Operation]) -> set[str]:
    """The methods declared endpoints serve at `path` (either URL shape)."""
    return {operation.method for operation in operations
            for _, route, _ in operation.shapes() if _matches(route, path)}


def unmatched(method: str, path: str, operations: list[Operation]) -> ApiError:
    """The error for a request no endpoint took: 405 if the path exists with other methods, else 404."""
    shown = f"({method.upper()} /{path.strip('/')})"
    if methods_for(path, operations):
        return ApiError(f"Invalid method for URL {shown}", status=405, code="method_not_allowed")
    return ApiError(f"Invalid URL {shown}", status=404, code="unknown_url")


@bp.route(route="{*path}", methods=ALL_METHODS)
async def unknown_route(req: Request) -> Response:
    error = unmatched(req.method, req.url.path, OPERATIONS)
    headers = {"Allow": ", ".join(sorted(methods_for(req.url.path, OPERATIONS)))} if error.status == 405 else {}
    return Response(content=json.dumps(error.envelope()), status_code=error.status, headers=headers,
                    media_type="application/json")
