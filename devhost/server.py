"""devhost's HTTP front: the app's HTTP triggers under the route prefix, plus the Durable API."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import azure.functions as func
from aiohttp import web

from devhost.app_index import FunctionIndex, HostConfig, IndexedFunction
from devhost import http_streams
from devhost.durable import webhooks
from devhost.durable.engine import DurableEngine
from devhost.invocation import log_invocation, make_context

logger = logging.getLogger("devhost")

# The Functions host refuses request bodies over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (default 100 MB).
DEFAULT_BODY_LIMIT = 104_857_600


def body_limit() -> int:
    return int(os.environ.get("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT") or DEFAULT_BODY_LIMIT)


class HttpTriggers:
    """Dispatches requests to HTTP-triggered functions, as the host and worker do."""

    def __init__(self, index: FunctionIndex, config: HostConfig, client_binding: str, workers: int = 32):
        self._index = index
        self._prefix = f"/{config.route_prefix}" if config.route_prefix else ""
        self._client_binding = client_binding
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if self._prefix:
            if path != self._prefix and not path.startswith(self._prefix + "/"):
                return web.Response(status=404)
            path = path[len(self._prefix):]
        found = self._index.match_http(request.method, path)
        if found is None:
            return web.Response(status=405 if self._index.path_exists(path) else 404)
        function, route_params = found
        if request.content_length is not None and request.content_length > body_limit():
            return web.Response(status=413)
        if function.streaming:
            return await self._invoke_streaming(function, request, route_params)
        http_request = func.HttpRequest(
            method=request.method, url=str(request.url),
            headers={name: ", ".join(request.headers.getall(name)) for name in request.headers.keys()},
            params={name: request.query.getone(name) for name in request.query.keys()},
            route_params=route_params, body=await request.read())
        return await self._invoke(function, http_request)

    def _bindings(self, function: IndexedFunction, context) -> dict[str, Any]:
        """The non-trigger arguments: the Durable client binding and the invocation context."""
        kwargs: dict[str, Any] = {}
        if function.durable_client_param:
            kwargs[function.durable_client_param] = self._client_binding
        if function.wants_context:
            kwargs["context"] = context
        return kwargs

    async def _invoke_streaming(self, function: IndexedFunction, request: web.Request,
                                route_params: dict[str, str]) -> web.StreamResponse:
        context = make_context(function.name)
        started = time.perf_counter()
        try:
            response = await http_streams.invoke(function.user_function, function.trigger_param, request,
                                                 route_params, self._bindings(function, context))
        except Exception:
            logger.exception("function %s raised", function.name)
            log_invocation(function.name, context.invocation_id, started, "Failed")
            return web.Response(status=500)
        log_invocation(function.name, context.invocation_id, started, "Succeeded")
        return response

    async def _invoke(self, function: IndexedFunction, http_request: func.HttpRequest) -> web.StreamResponse:
        context = make_context(function.name)
        kwargs: dict[str, Any] = {function.trigger_param: http_request, **self._bindings(function, context)}
        started = time.perf_counter()
        try:
            if function.is_async:
                result = await function.user_function(**kwargs)
            else:
                result = await asyncio.get_running_loop().run_in_executor(
                    self._pool, partial(function.user_function, **kwargs))
            response = to_aiohttp(result)
        except Exception:  # the host answers 500 with no body and logs the exception
            logger.exception("function %s raised", function.name)
            log_invocation(function.name, context.invocation_id, started, "Failed")
            return web.Response(status=500)
        log_invocation(function.name, context.invocation_id, started, "Succeeded")
        return response

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def to_aiohttp(result: Any) -> web.Response:
    """Translate what a function returned into the HTTP response the host would send."""
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items()}
        if not any(k.lower() == "content-type" for k in headers) and result.mimetype:
            charset = f"; charset={result.charset}" if result.charset else ""
            headers["Content-Type"] = f"{result.mimetype}{charset}"
        return web.Response(status=result.status_code, body=result.get_body(), headers=headers)
    if result is None:
        return web.Response(status=204)
    if isinstance(result, (bytes, bytearray)):
        return web.Response(body=bytes(result), content_type="application/octet-stream")
    if isinstance(result, str):
        return web.Response(text=result, content_type="text/plain")
    raise TypeError(f"unsupported HTTP function return type {type(result).__name__}")


def build_app(index: FunctionIndex, config: HostConfig, engine: DurableEngine, base_url: str) -> web.Application:
    app = web.Application(client_max_size=body_limit())
    triggers = HttpTriggers(index, config, webhooks.client_binding(base_url, config.hub_name))
    webhooks.add_routes(app, engine)
    app.router.add_route("*", "/{tail:.*}", triggers.handle)

    async def shutdown(_app: web.Application) -> None:
        await engine.close()
        triggers.close()

    app.on_shutdown.append(shutdown)
    return app
