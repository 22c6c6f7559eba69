"""The HTTP shell: an aiohttp app serving Chat Completions from a Script, plus control routes.

Completion routes: /v1/chat/completions, /chat/completions and Azure's
/openai/deployments/{deployment}/chat/completions; the same three shapes for
/embeddings (deterministic vectors, see embeddings.py). Authentication is ignored on purpose.
Control routes live under /_scripted/ (see client.py for the Python side).
"""

from __future__ import annotations

import asyncio
import json
import threading

from aiohttp import web

from .client import ScriptedModelClient
from .script import Script
from . import embeddings, wire

_SCRIPT = web.AppKey("script", Script)


def create_app(script: Script) -> web.Application:
    """The aiohttp application; all state lives in the given script."""
    app = web.Application()
    app[_SCRIPT] = script
    for path in ("/v1/chat/completions", "/chat/completions",
                 "/openai/deployments/{deployment}/chat/completions"):
        app.router.add_post(path, _chat_completions)
    for path in ("/v1/embeddings", "/embeddings", "/openai/deployments/{deployment}/embeddings"):
        app.router.add_post(path, _embeddings)
    app.router.add_post("/_scripted/replies", _enqueue)
    app.router.add_get("/_scripted/requests", _requests)
    app.router.add_get("/_scripted/state", _state)
    app.router.add_post("/_scripted/defaults", _set_default)
    app.router.add_post("/_scripted/reset", _reset)
    return app


def _error(status: int, message: str | None = None, retry_after: float | None = None) -> web.Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
        headers["retry-after-ms"] = str(round(retry_after * 1000))
    return web.json_response(wire.error_body(status, message), status=status, headers=headers)


async def _json_object(request: web.Request) -> dict | None:
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    script = request.app[_SCRIPT]
    script.count_received()
    body = await _json_object(request)
    if body is None:
        return _error(400, "We could not parse the JSON body of your request. (scripted model)")
    model = body.get("model") or request.match_info.get("deployment")
    if not model:
        return _error(400, "Missing required parameter: 'model'.")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return _error(400, "Missing required parameter: 'messages'.")

    reply = script.take(body)
    await asyncio.sleep(reply["latency_ms"] / 1000)
    if "error" in reply:
        error = reply["error"]
        return _error(error["status"], error.get("message"), error.get("retry_after"))

    answer = wire.resolve(reply, body, model)
    if not body.get("stream"):
        return web.json_response(wire.completion(answer))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    for chunk in wire.chunks(answer, include_usage):
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def _embeddings(request: web.Request) -> web.Response:
    """Deterministic embeddings (scripted_model/embeddings.py), after the default latency."""
    body = await _json_object(request)
    if body is None:
        return _error(400, "We could not parse the JSON body of your request. (scripted model)")
    model = body.get("model") or request.match_info.get("deployment")
    if not model:
        return _error(400, "Missing required parameter: 'model'.")
    await asyncio.sleep(request.app[_SCRIPT].state()["default_latency_ms"] / 1000)
    result = embeddings.response(body, model)
    return _error(400, result) if isinstance(result, str) else web.json_response(result)


async def _enqueue(request: web.Request) -> web.Response:
    body = await _json_object(request)
    replies = body.get("replies") if body else None
    if not isinstance(replies, list):
        return _error(400, "expected {\"replies\": [reply spec, ...]}")
    try:
        pending = request.app[_SCRIPT].enqueue(replies)
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response({"pending": pending})


async def _requests(request: web.Request) -> web.Response:
    return web.json_response({"data": request.app[_SCRIPT].requests()})


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[_SCRIPT].state())


async def _set_default(request: web.Request) -> web.Response:
    body = await _json_object(request)
    if body is None or set(body) - {"latency_ms"}:
        return _error(400, "expected {\"latency_ms\": number}")
    try:
        request.app[_SCRIPT].set_default(latency_ms=body.get("latency_ms"))
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response(request.app[_SCRIPT].state())


async def _reset(request: web.Request) -> web.Response:
    request.app[_SCRIPT].reset()
    return web.json_response(request.app[_SCRIPT].state())


async def start(script: Script, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve the app on host:port (0 picks a free port); returns the runner and the /v1 base URL."""
    runner = web.AppRunner(create_app(script), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{_url_host(bound_host)}:{bound_port}/v1"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class ScriptedModelHandle:
    """A server running on its own event loop in a daemon thread; stop() shuts it down."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.script = Script()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="scripted-model",
                                        daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start(self.script, host, port), self._loop)
        try:
            self._runner, self.base_url = future.result(timeout=10)
        except BaseException:
            self._halt()
            raise
        self.client = ScriptedModelClient(self.base_url)

    def stop(self) -> None:
        """Close the listener and open connections, then end the loop thread."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._halt()

    def _halt(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> "ScriptedModelHandle":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> ScriptedModelHandle:
    """Start a scripted model server for a test or demo; port 0 picks a free port."""
    return ScriptedModelHandle(host, port)
