"""/v1/threads/{thread_id}/runs and /v1/threads/runs: runs and run steps.

HTTP only *requests*: create stores a queued run (claiming the thread) and
starts its orchestration (instance id = run id); cancel marks it `cancelling`
and signals the orchestration; submit_tool_outputs validates and stores the
outputs, queues the run again and signals. The orchestrator moves runs forward.
Storage calls are synchronous, so they run in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse

import azure.durable_functions as df
import azure.functions as func

from activities import file_search
from activities.runs import complete_if_answered
from api import requests, services
from api.routing import QueryParam, endpoint, pagination_params
from api.threads import create_thread_with_files
from core import ids, settings
from core.errors import InvalidRequest, NotFound
from core.repositories.runs import ACTIVE_STATUSES, RunChange, public
from core.wire.messages import new_message
from core.wire.runs import (
    Run, RunCreate, RunSettings, RunStep, RunUpdate, SubmitToolOutputs, ThreadAndRunCreate, new_run)
from core.wire.threads import ThreadCreate
from orchestrators.run_lifecycle import CANCEL_EVENT, tool_outputs_event

bp = df.Blueprint()
TAG = "Runs"
ORCHESTRATOR = "run_orchestrator"
# The SDK's poll helpers wait as long as this header says between retrievals of a live run:
# briskly while a run is young (most answers come within seconds), then more gently.
POLL_AFTER_YOUNG_MS, POLL_AFTER_MS, YOUNG_RUN_SECONDS = "40", "250", 10
logger = logging.getLogger(__name__)


def run_response(record: dict, status: int = 200) -> func.HttpResponse:
    response = requests.json_response(public(record), status)
    if record["status"] in ACTIVE_STATUSES:
        young = services.now() - record["created_at"] < YOUNG_RUN_SECONDS
        response.headers["openai-poll-after-ms"] = POLL_AFTER_YOUNG_MS if young else POLL_AFTER_MS
    return response


def _orchestration_input(principal: str, run: dict) -> dict:
    return {"principal": principal, "thread_id": run["thread_id"], "run_id": run["id"]}


def _assistant(principal: str, body: RunSettings) -> dict:
    assistant = services.assistants().get(principal, body.assistant_id) \
        if ids.is_id("assistant", body.assistant_id) else None
    if assistant is None:
        raise NotFound("assistant", body.assistant_id, param="assistant_id")
    return assistant


def _store_run(principal: str, thread_id: str, assistant: dict, body: RunSettings, additional: list) -> dict:
    created_at = services.now()
    run = new_run(ids.new_id("run"), thread_id, created_at,
                  created_at + int(settings.get("RUN_EXPIRY_SECONDS")), assistant, body)
    run["_engine"] = {"turns": {}, "round": 0, "usage": None}
    messages = [dict(new_message(ids.new_id("message"), thread_id, created_at, message))
                for message in additional]
    return services.runs().create(principal, run, messages)


async def _start(client, principal: str, run: dict) -> func.HttpResponse:
    try:
        await client.start_new(ORCHESTRATOR, run["id"], _orchestration_input(principal, run))
    except Exception:
        logger.exception("starting the orchestration of %s failed", run["id"])
        await asyncio.to_thread(_fail_unstarted, principal, run)
        raise
    return run_response(run)


def _fail_unstarted(principal: str, run: dict) -> None:
    """The run could not be started: it must not hold the thread or look queued forever."""
    def change(current: dict) -> RunChange:
        current.update(status="failed", failed_at=services.now(), last_error={
            "code": "server_error", "message": "The run could not be started."})
        return RunChange(current, release_thread=True)
    services.runs().update(principal, run["thread_id"], run["id"], change)


@endpoint(bp, "POST", "threads/{thread_id}/runs", summary="Create a run", tag=TAG, body=RunCreate, response=Run,
          durable_client=True)
async def runs_create(req: func.HttpRequest, client) -> func.HttpResponse:
    principal = requests.principal(req)
    body = requests.body(req, RunCreate)
    thread_id = req.route_params["thread_id"]

    def store() -> dict:
        services.threads().state(principal, thread_id)
        references = []
        for index, message in enumerate(body.additional_messages or []):
            references += message.referenced_file_ids(f"additional_messages[{index}]")
        services.require_files(principal, references)
        return _store_run(principal, thread_id, _assistant(principal, body), body, body.additional_messages or [])

    return await _start(client, principal, await asyncio.to_thread(store))


@endpoint(bp, "POST", "threads/runs", summary="Create a thread and run it", tag=TAG, body=ThreadAndRunCreate,
          response=Run, durable_client=True)
async def threads_create_and_run(req: func.HttpRequest, client) -> func.HttpResponse:
    principal = requests.principal(req)
    body = requests.body(req, ThreadAndRunCreate)

    assistant = await asyncio.to_thread(_assistant, principal, body)
    thread_body = body.thread or ThreadCreate()
    if body.tool_resources is not None and thread_body.tool_resources is None:
        thread_body = thread_body.model_copy(update={"tool_resources": body.tool_resources})
    thread = await create_thread_with_files(client, principal, thread_body)
    run = await asyncio.to_thread(_store_run, principal, thread["id"], assistant, body, [])
    return await _start(client, principal, run)


@endpoint(bp, "GET", "threads/{thread_id}/runs", summary="List runs", tag=TAG, list_of=Run,
          query=pagination_params())
def runs_list(req: func.HttpRequest) -> func.HttpResponse:
    page = services.runs().list(requests.principal(req), req.route_params["thread_id"], requests.page_request(req, "run"))
    page.data = [public(record) for record in page.data]
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}", summary="Retrieve a run", tag=TAG, response=Run)
def runs_retrieve(req: func.HttpRequest) -> func.HttpResponse:
    return run_response(services.runs().get(requests.principal(req), req.route_params["thread_id"], req.route_params["run_id"]))


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}", summary="Modify a run", tag=TAG, body=RunUpdate,
          response=Run)
def runs_update(req: func.HttpRequest) -> func.HttpResponse:
    principal = requests.principal(req)
    body = requests.body(req, RunUpdate)

    def change(run: dict) -> RunChange:
        if body.metadata is not None:
            run["metadata"] = body.metadata
        return RunChange(run)

    return run_response(services.runs().update(principal, req.route_params["thread_id"], req.route_params["run_id"], change))


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel a run", tag=TAG, response=Run,
          durable_client=True)
async def runs_cancel(req: func.HttpRequest, client) -> func.HttpResponse:
    principal = requests.principal(req)
    thread_id, run_id = req.route_params["thread_id"], req.route_params["run_id"]

    def change(run: dict) -> RunChange:
        if run["status"] not in ("queued", "in_progress", "requires_action"):
            raise InvalidRequest(f"Cannot cancel run with status '{run['status']}'.", code="invalid_state")
        run["status"] = "cancelling"
        return RunChange(run)

    run = await asyncio.to_thread(services.runs().update, principal, thread_id, run_id, change)
    await client.raise_event(run_id, CANCEL_EVENT, {"requested_at": services.now()})
    return run_response(run)


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}/submit_tool_outputs", summary="Submit tool outputs",
          tag=TAG, body=SubmitToolOutputs, response=Run, durable_client=True)
async def runs_submit_tool_outputs(req: func.HttpRequest, client) -> func.HttpResponse:
    principal = requests.principal(req)
    body = requests.body(req, SubmitToolOutputs)
    thread_id, run_id = req.route_params["thread_id"], req.route_params["run_id"]
    accepted: dict = {}

    def change(run: dict) -> RunChange:
        if run["status"] != "requires_action":
            raise InvalidRequest(f"Runs in status \"{run['status']}\" do not accept tool outputs.",
                                 code="invalid_state")
        expected = {call["id"] for call in run["required_action"]["submit_tool_outputs"]["tool_calls"]}
        given = [output.tool_call_id for output in body.tool_outputs]
        if len(set(given)) != len(given):
            raise InvalidRequest("Each tool call may be answered only once.", param="tool_outputs")
        unknown = sorted(set(given) - expected)
        if unknown:
            raise InvalidRequest(f"Tool call {unknown[0]} is not awaiting an output.", param="tool_outputs")
        missing = sorted(expected - set(given))
        if missing:
            raise InvalidRequest(f"Expected tool outputs for call_ids {sorted(expected)}, got {sorted(given)}; "
                                 f"missing {missing}.", param="tool_outputs")
        engine = run["_engine"]
        step, entity = services.runs().load_step(principal, thread_id, run_id, engine["action_step"])
        outputs = {output.tool_call_id: output.output for output in body.tool_outputs}
        for call in step["step_details"]["tool_calls"]:
            if call["id"] in outputs:
                call["function"]["output"] = outputs[call["id"]]
        operations, blob = services.runs().step_operations(principal, complete_if_answered(step), entity.metadata["etag"])
        run.update(status="queued", required_action=None)
        accepted["round"] = engine["round"]
        return RunChange(run, operations, [blob])

    run = await asyncio.to_thread(services.runs().update, principal, thread_id, run_id, change)
    await client.raise_event(run_id, tool_outputs_event(accepted["round"]), {"round": accepted["round"]})
    return run_response(run)


INCLUDE_PARAM = QueryParam("include[]", {"type": "array", "items": {"type": "string", "enum": [
    file_search.CONTENT_INCLUDE]}}, "Extra fields: file_search results' content.")


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/steps", summary="List run steps", tag=TAG,
          list_of=RunStep, query=pagination_params() + (INCLUDE_PARAM,))
def run_steps_list(req: func.HttpRequest) -> func.HttpResponse:
    include = _include(req)
    page = services.runs().list_steps(requests.principal(req), req.route_params["thread_id"], req.route_params["run_id"],
                             requests.page_request(req, "step"))
    page.data = [file_search.public_step(public(step), include) for step in page.data]
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/steps/{step_id}", summary="Retrieve a run step", tag=TAG,
          response=RunStep, query=(INCLUDE_PARAM,))
def run_steps_retrieve(req: func.HttpRequest) -> func.HttpResponse:
    include = _include(req)
    step = services.runs().load_step(requests.principal(req), req.route_params["thread_id"], req.route_params["run_id"],
                            req.route_params["step_id"])[0]
    return requests.json_response(file_search.public_step(public(step), include))


def _include(req: func.HttpRequest) -> list[str]:
    """`include[]` of a steps request (the only value OpenAI accepts: file_search results' content)."""
    values = [value for key, value in urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query)
              if key in ("include[]", "include")]
    for value in values:
        if value != file_search.CONTENT_INCLUDE:
            raise InvalidRequest(f"Invalid value: '{value}'. Supported values are: '{file_search.CONTENT_INCLUDE}'.",
                                 param="include", code="invalid_value")
    return values
