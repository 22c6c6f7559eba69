"""The Durable Functions HTTP API that the SDK's DurableOrchestrationClient calls.

Served under /runtime/webhooks/durabletask/ as the host does, so the client
binding devhost hands to HTTP functions is the real SDK client talking HTTP.

It can start, signal, terminate and purge anyone's orchestrations, so, as in
Azure, it answers only holders of the *system key*: one made at each start
(or given by whoever starts devhost, in DEVHOST_SYSTEM_KEY), never logged or
stored. The public routes take it as the host's do (`code` query parameter or
`x-functions-key` header); the SDK's client, which appends paths to the
binding's `rpcBaseUrl` and sends no key of its own, gets a base URL whose path
holds the key — the in-process channel the real host keeps on a private port.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devhost.durable.engine import DurableEngine, InstanceGone, InstanceNotFound
from devhost.durable.state import InstanceState

WEBHOOK_PATH = "/runtime/webhooks/durabletask/"
RPC_PATH = "/runtime/durabletask-rpc/"  # + the system key + "/": the binding's rpcBaseUrl
SYSTEM_KEY_SETTING = "DEVHOST_SYSTEM_KEY"
KEY_HEADER = "x-functions-key"
_HTTP_STATUS = {"Completed": 200, "Running": 202, "Pending": 202, "Failed": 500, "Terminated": 200}


def system_key() -> str:
    """This devhost's system key: the one its starter chose (DEVHOST_SYSTEM_KEY), else a fresh random one."""
    chosen = os.environ.get(SYSTEM_KEY_SETTING, "")
    if chosen and len(chosen) < 32:
        raise SystemExit(f"{SYSTEM_KEY_SETTING} must be at least 32 characters (a random secret)")
    return chosen or secrets.token_urlsafe(32)


def presents_key(request: Request, key: str) -> bool:
    """Whether the request carries the system key the way the host takes it (compared in constant time)."""
    given = request.query_params.get("code") or request.headers.get(KEY_HEADER) or request.path_params.get("key") or ""
    return hmac.compare_digest(given.encode(), key.encode())


def client_binding(base_url: str, hub_name: str, key: str) -> str:
    """The JSON the host passes for a `durableClient` binding."""
    rpc = f"{base_url}{RPC_PATH}{key}/"
    query = f"taskHub={hub_name}&connection=Storage&code={key}"
    instance = f"{base_url}{WEBHOOK_PATH}instances/INSTANCEID"
    return json.dumps({
        "taskHubName": hub_name,
        "creationUrls": {
            "createNewInstancePostUri":
                f"{base_url}{WEBHOOK_PATH}orchestrators/{{functionName}}[/{{instanceId}}]?{query}",
            "createAndWaitOnNewInstancePostUri":
                f"{base_url}{WEBHOOK_PATH}orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                f"&pollingInterval={{intervalInSeconds}}&{query}",
        },
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
        },
        "rpcBaseUrl": rpc,
        "requiredQueryStringParameters": f"code={key}",
    })


def status_json(state: InstanceState, show_history: bool, show_input: bool) -> dict:
    body = {
        "name": state.name, "instanceId": state.instance_id, "runtimeStatus": state.status,
        "customStatus": state.custom_status, "output": state.output,
        "createdTime": state.created_time, "lastUpdatedTime": state.last_updated_time,
    }
    if show_input:
        body["input"] = state.input
    if show_history:
        body["history"] = state.history
    return body


def routes(engine: DurableEngine, key: str) -> list[Route]:
    """The host's Durable HTTP API as routes of devhost's ASGI app, each answering only the system key."""

    def flag(request: Request, name: str, default: bool) -> bool:
        value = request.query_params.get(name)
        return default if value is None else value.lower() == "true"

    async def start(request: Request) -> Response:
        body = await request.body()
        try:
            # Like the host, the input is the parsed body; the SDK client sends a JSON string of JSON.
            input_value = json.loads(body) if body else None
        except (json.JSONDecodeError, RecursionError):  # nesting deep enough to exhaust the parser's stack
            return JSONResponse({"ExceptionMessage": "The request body must be JSON."}, status_code=400)
        try:
            instance_id = await engine.start_new(
                request.path_params["name"], request.path_params.get("instance_id"), input_value)
        except LookupError as error:
            return JSONResponse({"ExceptionMessage": str(error)}, status_code=400)
        except InstanceGone as error:
            return JSONResponse({"ExceptionMessage": str(error)}, status_code=409)
        return JSONResponse({"id": instance_id}, status_code=202)

    async def status(request: Request) -> Response:
        state = await engine.get_state(request.path_params["instance_id"])
        if state is None:
            return JSONResponse(None, status_code=404)
        body = status_json(state, flag(request, "showHistory", False), flag(request, "showInput", True))
        return JSONResponse(body, status_code=_HTTP_STATUS.get(state.status, 200))

    async def list_all(request: Request) -> Response:
        states = await engine.list_states()
        return JSONResponse([status_json(s, False, flag(request, "showInput", False)) for s in states])

    async def accepted(operation) -> Response:
        """202 once the engine took the request; 404 unknown instance; 410 no longer running."""
        try:
            await operation
        except InstanceNotFound:
            return Response(status_code=404)
        except InstanceGone:
            return Response(status_code=410)
        return Response(status_code=202)

    async def raise_event(request: Request) -> Response:
        body = (await request.body()).decode("utf-8") or None
        return await accepted(engine.raise_event(request.path_params["instance_id"], request.path_params["event"],
                                                 body))

    async def terminate(request: Request) -> Response:
        return await accepted(engine.terminate(request.path_params["instance_id"],
                                               request.query_params.get("reason", "")))

    async def purge(request: Request) -> Response:
        deleted = await engine.purge(request.path_params["instance_id"])
        return JSONResponse({"instancesDeleted": int(deleted)}, status_code=200 if deleted else 404)

    def guarded(handler):
        async def checked(request: Request) -> Response:
            if not presents_key(request, key):
                return JSONResponse({"error": {
                    "message": "The Durable Functions API needs the host's system key (code= or x-functions-key).",
                    "type": "invalid_request_error", "param": None, "code": "invalid_system_key"}}, status_code=401)
            return await handler(request)
        return checked

    operations = [
        ("orchestrators/{name}", start, "POST"),
        ("orchestrators/{name}/{instance_id}", start, "POST"),
        ("instances/", list_all, "GET"),
        ("instances/{instance_id}", status, "GET"),
        ("instances/{instance_id}", purge, "DELETE"),
        ("instances/{instance_id}/raiseEvent/{event}", raise_event, "POST"),
        ("instances/{instance_id}/terminate", terminate, "POST"),
    ]
    return [Route(f"{base}{path}", guarded(handler), methods=[method])
            for base in (WEBHOOK_PATH, f"{RPC_PATH}{{key}}/") for path, handler, method in operations]
