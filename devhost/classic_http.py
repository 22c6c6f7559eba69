"""Classic HTTP functions (`func.HttpRequest` in, `func.HttpResponse` out): the one conversion each way.

Without HTTP streams the host hands the worker the whole request and sends back
the whole response; these pure functions translate between that and ASGI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote

import azure.functions as func
from starlette.responses import Response


def functions_request(scope: dict[str, Any], body: bytes, route_params: dict[str, str]) -> func.HttpRequest:
    """The HttpRequest the worker would build: repeated headers joined by ', ', the first of repeated params."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    params: dict[str, str] = {}
    for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        params.setdefault(name, value)
    return func.HttpRequest(method=scope["method"], url=_url(scope, headers.get("host")), headers=headers,
                            params=params, route_params=route_params, body=body)


def _url(scope: dict[str, Any], host: str | None) -> str:
    """The URL as the client sent it (still percent-encoded)."""
    if host is None:
        server_host, port = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server_host}:{port}"
    path = scope["raw_path"].decode("latin-1") if scope.get("raw_path") else quote(scope["path"])
    query = scope["query_string"].decode("latin-1")
    return f"{scope['scheme']}://{host}{path}" + (f"?{query}" if query else "")


def asgi_response(result: Any) -> Response:
    """The HTTP response the host sends for what a function returned."""
    if isinstance(result, func.HttpResponse):
        headers = dict(result.headers.items())
        if not any(name.lower() == "content-type" for name in headers) and result.mimetype:
            charset = f"; charset={result.charset}" if result.charset else ""
            headers["Content-Type"] = f"{result.mimetype}{charset}"
        return Response(result.get_body(), status_code=result.status_code, headers=headers)
    if result is None:
        return Response(status_code=204)
    if isinstance(result, (bytes, bytearray)):
        return Response(bytes(result), media_type="application/octet-stream")
    if isinstance(result, str):
        return Response(result, media_type="text/plain")
    raise TypeError(f"unsupported HTTP function return type {type(result).__name__}")
