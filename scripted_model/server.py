"""The HTTP shell: a Starlette app serving Chat Completions from a Script, plus control routes.

Completion routes: /v1/chat/completions, /chat/completions and Azure's
/openai/deployments/{deployment}/chat/completions; embeddings likewise (deterministic
vectors). Authentication is ignored on purpose.
Control routes live under /_scripted/ (see client.py for the Python side).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import embeddings, wire
from .client import ScriptedModelClient
from .script import Script


def create_app(script: Script) -> Starlette:
    """The ASGI application; all state lives in the given script."""
    routes = [Route(path, _chat_completions, methods=["POST"])
              for path in ("/v1/chat/completions", "/chat/completions",
                           "/openai/deployments/{deployment}/chat/completions")]
    routes += [Route(path, _embeddings, methods=["POST"])
               for path in ("/v1/embeddings", "/embeddings", "/openai/deployments/{deployment}/embeddings")]
    routes += [
        Route("/_scripted/replies", _enqueue, methods=["POST"]),
        Route("/_scripted/requests", _requests, methods=["GET"]),
        Route("/_scripted/state", _state, methods=["GET"]),
        Route("/_scripted/defaults", _set_default, methods=["POST"]),
        Route("/_scripted/reset", _reset, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.script = script
    return app


def _script(request: Request) -> Script:
    return request.app.state.script


def _error(status: int, message: str | None = None, retry_after: float | None = None) -> Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
        headers["retry-after-ms"] = str(round(retry_after * 1000))
    return JSONResponse(wire.error_body(status, message), status_code=status, headers=headers)


async def _json_object(request: Request) -> dict | None:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _model_request(request: Request) -> tuple[dict, str] | Response:
    """The request's JSON object and the model it names, or the error OpenAI would answer."""
    body = await _json_object(request)
    if body is None:
        return _error(400, "We could not parse the JSON body of your request. (scripted model)")
    model = body.get("model") or request.path_params.get("deployment")
    if not model:
        return _error(400, "Missing required parameter: 'model'.")
    return body, model


async def _chat_completions(request: Request) -> Response:
    script = _script(request)
    script.count_received()
    parsed = await _model_request(request)
    if isinstance(parsed, Response):
        return parsed
    body, model = parsed
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return _error(400, "Missing required parameter: 'messages'.")

    reply = script.take(body)
    await asyncio.sleep(reply["latency_ms"] / 1000)
    if "error" in reply:
        error = reply["error"]
        return _error(error["status"], error.get("message"), error.get("retry_after"))

    answer = wire.resolve(reply, body, model)
    if not body.get("stream"):
        return JSONResponse(wire.completion(answer))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    pieces = reply.get("pieces") or wire.DEFAULT_PIECES

    async def events():
        for index, chunk in enumerate(wire.chunks(answer, include_usage, pieces)):
            if index == 1:  # the role chunk goes out at once; the first token takes its time
                await asyncio.sleep(reply.get("first_token_ms", 0) / 1000)
            elif index > 1:
                await asyncio.sleep(reply.get("piece_ms", 0) / 1000)
            piece = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
            if piece:
                script.note_sent(answer.id, piece, time.time())
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _embeddings(request: Request) -> Response:
    """Deterministic embeddings (scripted_model/embeddings.py), after the default latency."""
    parsed = await _model_request(request)
    if isinstance(parsed, Response):
        return parsed
    body, model = parsed
    await asyncio.sleep(_script(request).state()["default_latency_ms"] / 1000)
    result = embeddings.response(body, model)
    return _error(400, result) if isinstance(result, str) else JSONResponse(result)


async def _enqueue(request: Request) -> Response:
    body = await _json_object(request)
    replies = body.get("replies") if body else None
    if not isinstance(replies, list):
        return _error(400, "expected {\"replies\": [reply spec, ...]}")
    try:
        pending = _script(request).enqueue(replies)
    except ValueError as exc:
        return _error(400, str(exc))
    return JSONResponse({"pending": pending})


async def _requests(request: Request) -> Response:
    return JSONResponse({"data": _script(request).requests()})


async def _state(request: Request) -> Response:
    return JSONResponse(_script(request).state())


async def _set_default(request: Request) -> Response:
    body = await _json_object(request)
    if body is None or set(body) - {"latency_ms"}:
        return _error(400, "expected {\"latency_ms\": number}")
    try:
        _script(request).set_default(latency_ms=body.get("latency_ms"))
    except ValueError as exc:
        return _error(400, str(exc))
    return JSONResponse(_script(request).state())


async def _reset(request: Request) -> Response:
    _script(request).reset()
    return JSONResponse(_script(request).state())


class Serving:
    """A uvicorn server running on the current event loop; `stop()` closes it and its connections."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task) -> None:
        self._server = server
        self._task = task

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task

    async def wait(self) -> None:
        """Until the server stops (on SIGINT/SIGTERM when it runs in the main thread)."""
        await self._task


async def start(script: Script, host: str, port: int) -> tuple[Serving, str]:
    """Serve the app on host:port (0 picks a free port); returns the running server and the /v1 base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(script), host=host, port=port, lifespan="off",
                                           log_config=None, access_log=False, timeout_graceful_shutdown=1,
                                           timeout_keep_alive=75))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():  # could not bind: its exception says why
            task.result()
            raise OSError(f"the scripted model could not listen on {host}:{port}")
        await asyncio.sleep(0.005)
    bound_host, bound_port = server.servers[0].sockets[0].getsockname()[:2]
    return Serving(server, task), f"http://{_url_host(bound_host)}:{bound_port}/v1"


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
            self._serving, self.base_url = future.result(timeout=10)
        except BaseException:
            self._halt()
            raise
        self.client = ScriptedModelClient(self.base_url)

    def stop(self) -> None:
        """Close the listener and open connections, then end the loop thread."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._serving.stop(), self._loop).result(timeout=10)
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
