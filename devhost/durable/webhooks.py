"""The Durable Functions HTTP API that the SDK's DurableOrchestrationClient calls.

Served under /runtime/webhooks/durabletask/ as the host does, so the client
binding devhost hands to HTTP functions is the real SDK client talking HTTP.
"""

from __future__ import annotations

import json

from aiohttp import web

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


def add_routes(app: web.Application, engine: DurableEngine) -> None:
    def flag(request: web.Request, name: str, default: bool) -> bool:
        value = request.query.get(name)
        return default if value is None else value.lower() == "true"

    async def start(request: web.Request) -> web.Response:
        body = await request.text()
        try:
            # Like the host, the input is the parsed body; the SDK client sends a JSON string of JSON.
            input_value = json.loads(body) if body else None
        except json.JSONDecodeError:
            return web.json_response({"ExceptionMessage": "The request body must be JSON."}, status=400)
        try:
            instance_id = await engine.start_new(
                request.match_info["name"], request.match_info.get("instance_id"), input_value)
        except LookupError as error:
            return web.json_response({"ExceptionMessage": str(error)}, status=400)
        except InstanceGone as error:
            return web.json_response({"ExceptionMessage": str(error)}, status=409)
        return web.json_response({"id": instance_id}, status=202)

    async def status(request: web.Request) -> web.Response:
        state = await engine.get_state(request.match_info["instance_id"])
        if state is None:
            return web.json_response(None, status=404)
        body = status_json(state, flag(request, "showHistory", False), flag(request, "showInput", True))
        return web.json_response(body, status=_HTTP_STATUS.get(state.status, 200))

    async def list_all(request: web.Request) -> web.Response:
        states = await engine.list_states()
        return web.json_response([status_json(s, False, flag(request, "showInput", False)) for s in states])

    async def accepted(operation) -> web.Response:
        """202 once the engine took the request; 404 unknown instance; 410 no longer running."""
        try:
            await operation
        except InstanceNotFound:
            return web.Response(status=404)
        except InstanceGone:
            return web.Response(status=410)
        return web.Response(status=202)

    async def raise_event(request: web.Request) -> web.Response:
        return await accepted(engine.raise_event(request.match_info["instance_id"], request.match_info["event"],
                                                 (await request.text()) or None))

    async def terminate(request: web.Request) -> web.Response:
        return await accepted(engine.terminate(request.match_info["instance_id"], request.query.get("reason", "")))

    async def purge(request: web.Request) -> web.Response:
        deleted = await engine.purge(request.match_info["instance_id"])
        return web.json_response({"instancesDeleted": int(deleted)}, status=200 if deleted else 404)

    base = WEBHOOK_PATH.rstrip("/")
    app.router.add_post(f"{base}/orchestrators/{{name}}", start)
    app.router.add_post(f"{base}/orchestrators/{{name}}/{{instance_id}}", start)
    app.router.add_get(f"{base}/instances/", list_all)
    app.router.add_get(f"{base}/instances/{{instance_id}}", status)
    app.router.add_delete(f"{base}/instances/{{instance_id}}", purge)
    app.router.add_post(f"{base}/instances/{{instance_id}}/raiseEvent/{{event}}", raise_event)
    app.router.add_post(f"{base}/instances/{{instance_id}}/terminate", terminate)
