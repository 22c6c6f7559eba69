"""devhost's HTTP front: one ASGI app with the Durable API and the app's HTTP triggers under the route prefix."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Router

from devhost import http_streams
from devhost.app_index import FunctionIndex, HostConfig, IndexedFunction
from devhost.classic_http import asgi_response, functions_request
from devhost.durable import webhooks
from devhost.durable.engine import DurableEngine
from devhost.front import Front, body_limit
from devhost.invocation import log_invocation, make_context
from devhost.timers import TimerScheduler


class HttpTriggers:
    """Dispatches requests to HTTP-triggered functions, as the host and worker do (an ASGI app)."""

    def __init__(self, index: FunctionIndex, config: HostConfig, client_binding: str):
        self._index = index
        self._prefix = f"/{config.route_prefix}" if config.route_prefix else ""
        self._client_binding = client_binding
        # Synchronous functions run in worker threads, as the Python worker runs them.
        self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="http")

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        path = scope["path"]
        if self._prefix:
            if path != self._prefix and not path.startswith(self._prefix + "/"):
                await unmatched_response(scope["method"], path, False)(scope, receive, send)
                return
            path = path[len(self._prefix):]
        found = self._index.match_http(scope["method"], path)
        if found is None:
            await unmatched_response(scope["method"], scope["path"], self._index.path_exists(path))(scope, receive, send)
            return
        function, route_params = found
        if function.streaming:
            await self._logged(function, lambda bindings: http_streams.invoke(
                function.user_function, function.trigger_param, scope, receive, send, route_params, bindings))
            return
        # Without HTTP streams the host reads the whole body before it invokes anything.
        request = functions_request(scope, await Request(scope, receive).body(), route_params)
        response = await self._logged(function, lambda bindings: self._call_classic(function, request, bindings))
        await response(scope, receive, send)

    async def _logged(self, function: IndexedFunction, call: Callable[[dict[str, Any]], Awaitable[Any]]) -> Any:
        """One invocation, with its one log line; a failure re-raises for the front to log and answer."""
        context = make_context(function.name)
        started = time.perf_counter()
        try:
            result = await call(self.bindings(function, context))
        except Exception:
            log_invocation(function.name, context.invocation_id, started, "Failed")
            raise
        log_invocation(function.name, context.invocation_id, started, "Succeeded")
        return result

    async def _call_classic(self, function: IndexedFunction, request, bindings: dict[str, Any]) -> Response:
        kwargs = {function.trigger_param: request, **bindings}
        if function.is_async:
            result = await function.user_function(**kwargs)
        else:
            result = await asyncio.get_running_loop().run_in_executor(
                self._pool, partial(function.user_function, **kwargs))
        return asgi_response(result)

    def bindings(self, function: IndexedFunction, context) -> dict[str, Any]:
        """The non-trigger arguments: the Durable client binding and the invocation context."""
        kwargs: dict[str, Any] = {}
        if function.durable_client_param:
            kwargs[function.durable_client_param] = self._client_binding
        if function.wants_context:
            kwargs["context"] = context
        return kwargs

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def unmatched_response(method: str, path: str, path_exists: bool) -> JSONResponse:
    """What a request no function takes gets: 405 or 404, in OpenAI's error envelope.

    The app's catch-all function answers unknown routes for the methods a Functions HTTP trigger can
    declare; methods no trigger can declare (TRACE, CONNECT, WebDAV's PROPFIND, ...) reach only the
    platform, and a bare status would be the one answer outside the envelope.
    """
    shown = f"({method.upper()} /{path.strip('/')})"
    status, message, code = (405, f"Invalid method for URL {shown}", "method_not_allowed") if path_exists \
        else (404, f"Invalid URL {shown}", "unknown_url")
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                   "code": code}}, status_code=status)


def build_app(index: FunctionIndex, config: HostConfig, engine: DurableEngine, base_url: str,
              system_key: str) -> tuple[Front, TimerScheduler]:
    """The Durable API's routes first, every other path to the HTTP triggers; the timer triggers, to be
    started once the server listens (their Durable client calls it). All close at shutdown."""
    triggers = HttpTriggers(index, config, webhooks.client_binding(base_url, config.hub_name, system_key))
    router = Router(routes=webhooks.routes(engine, system_key), default=triggers, redirect_slashes=False)
    timers = TimerScheduler(index.timer_functions, triggers.bindings)

    async def shutdown() -> None:
        await timers.close()
        await engine.close()
        triggers.close()

    return Front(router, body_limit(), on_shutdown=shutdown), timers
