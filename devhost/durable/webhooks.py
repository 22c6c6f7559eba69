"""The Durable Functions HTTP API that the SDK's DurableOrchestrationClient calls.

Served under /runtime/webhooks/durabletask/ as the host does, so the client
binding devhost hands to HTTP functions is the real SDK client talking HTTP.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devhost.durable.engine import DurableEngine, InstanceGone, InstanceNotFound
from devhost.durable.state import InstanceState

WEBHOOK_PATH = "/runtime/webhooks/durabletask/"
_HTTP_STATUS = {"Completed": 200, "Running": 202, "Pending": 202, "Failed": 500, "Terminated": 200}


def client_binding(base_url: str, hub_name: str) -> str:
    """The JSON the host passes for a `durableClient` binding."""
    rpc = f"{base_url}{WEBHOOK_PATH}"
    query = f"taskHub={hub_name}&connection=Storage"
    instance = f"{rpc}instances/INSTANCEID"
    return json.dumps({
        "taskHubName": hub_name,
        "creationUrls": {
            "createNewInstancePostUri": f"{rpc}orchestrators/{{functionName}}[/{{instanceId}}]?{query}",
            "createAndWaitOnNewInstancePostUri":
                f"{rpc}orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
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
        "requiredQueryStringParameters": "",
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


def routes(engine: DurableEngine) -> list[Route]:
    """The host's Durable HTTP API as routes of devhost's ASGI app."""

    def flag(request: Request, name: str, default: bool) -> bool:
        value = request.query_params.get(name)
        return default if value is None else value.lower() == "true"

    async def start(request: Request) -> Response:
        body = await request.body()
        try:
            # Like the host, the input is the parsed body; the SDK client sends a JSON string of JSON.
            input_value = json.loads(body) if body else None
        except json.JSONDecodeError:
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

    base = WEBHOOK_PATH.rstrip("/")
    return [
        Route(f"{base}/orchestrators/{{name}}", start, methods=["POST"]),
        Route(f"{base}/orchestrators/{{name}}/{{instance_id}}", start, methods=["POST"]),
        Route(f"{base}/instances/", list_all, methods=["GET"]),
        Route(f"{base}/instances/{{instance_id}}", status, methods=["GET"]),
        Route(f"{base}/instances/{{instance_id}}", purge, methods=["DELETE"]),
        Route(f"{base}/instances/{{instance_id}}/raiseEvent/{{event}}", raise_event, methods=["POST"]),
        Route(f"{base}/instances/{{instance_id}}/terminate", terminate, methods=["POST"]),
    ]
