"""/v1/responses: create (held, background or streamed), retrieve (or stream from `starting_after`),
delete, cancel, input_items. Handlers parse, authorize, call usecases.response_runs (the response
stored) and usecases.response_answers (started, rendered, held).

A response's stream is a view of its run's event log (core.run_events.response_stream): created
with the response, or reopened by `GET /responses/{id}?stream=true&starting_after=N`, it reads the
log from its start and sends the events numbered after N, so a client resumes without gap or
repeat, whichever instance serves it and however often it reconnects.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from contextlib import aclosing
from typing import AsyncIterator

import azure.durable_functions as df
import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response, StreamingResponse

from api import requests
from api.event_streams import KEEP_ALIVE, EventsUnreadable, follow
from api.routing import QueryParam, endpoint
from core.errors import InvalidRequest
from core.repositories.shared import responses
from core.run_events import response_stream
from core.wire import response_objects
from core.wire.responses import INCLUDABLE, InputTokensCount, ResponseCreate
from tools.plugins import TOOLS
from usecases import response_answers, response_runs, response_tokens

bp = df.Blueprint()
TAG = "Responses"
RESPONSE_ID = "responses/{response_id}"


def _sse(event: dict) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False, separators=(',', ':'))}\n\n"\
        .encode("utf-8")


async def events_after(principal: str, record: dict, starting_after: int) -> AsyncIterator[bytes]:
    """The response's events numbered after `starting_after`, until its run has ended."""
    view = response_stream.ResponseStream(
        record["run_id"], lambda run, output: response_objects.response_object(record, run, output), TOOLS,
        lambda step_id: response_answers.step_books(principal, record, step_id), response_answers.item_view(record),
        record.get("seeded_step_id"))
    try:
        async with aclosing(follow(record["thread_id"], record["run_id"], 0, ends=response_stream.ends)) as stored:
            async for event in stored:
                if event is None:
                    yield KEEP_ALIVE
                    continue
                for made in view.feed(event.name, event.data):
                    if made["sequence_number"] > starting_after:
                        yield _sse(made)
    except EventsUnreadable:
        yield _sse({"type": "error", "code": "server_error", "message": "The response's events could not be read.",
                    "param": None, "sequence_number": view.sequence + 1})


def event_stream(principal: str, record: dict, starting_after: int = -1) -> StreamingResponse:
    return StreamingResponse(events_after(principal, record, starting_after), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@endpoint(bp, "POST", "responses", summary="Create a response", tag=TAG, body=ResponseCreate, durable_client=True,
          openai_v1=True)
async def responses_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, ResponseCreate)
    record, run = await asyncio.to_thread(response_runs.create, principal, body)
    if not body.stream and not body.background:
        return requests.json_response(await response_answers.held(client, principal, record, run))
    if body.stream and not body.background:  # a stream answers once its input is known to fit (or 400)
        await response_answers.streamed(client, principal, record, run)
        return event_stream(principal, record)
    await response_answers.start(client, principal, record, run)
    if body.stream:
        return event_stream(principal, record)
    return requests.json_response(response_answers.created(principal, record, run))


@endpoint(bp, "POST", "responses/input_tokens", summary="Count a response's input tokens", tag=TAG,
          body=InputTokensCount, openai_v1=True)
def responses_input_tokens(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, InputTokensCount)
    return requests.json_response(response_tokens.input_tokens_object(
        response_tokens.count_input_tokens(principal, body)))


def _flag(value: str | None, name: str) -> bool:
    if value in (None, "", "false", "False"):
        return False
    if value in ("true", "True"):
        return True
    raise InvalidRequest(f"Invalid value for '{name}': expected a boolean, got '{value[:40]}'.", param=name,
                         code="invalid_value")


def _starting_after(value: str | None) -> int:
    if value in (None, ""):
        return -1
    if not value.isdigit() or len(value) > 10:
        raise InvalidRequest(f"Invalid 'starting_after': expected a non-negative integer, got '{value[:40]}'.",
                             param="starting_after", code="invalid_value")
    return int(value)


@endpoint(bp, "GET", RESPONSE_ID, summary="Retrieve a response (or stream its events)", tag=TAG, streaming=True,
          openai_v1=True, query=(
              QueryParam("include[]", {"type": "array", "items": {"type": "string", "enum": list(INCLUDABLE)}},
                         "Extra output fields (a tool call's results or sources) to show."),
              QueryParam("stream", {"type": "boolean"}, "Stream the response's events."),
              QueryParam("starting_after", {"type": "integer", "minimum": 0},
                         "With stream: send the events numbered after this one.")))
async def responses_retrieve(req: Request, principal: str) -> Response:
    stream = _flag(req.query_params.get("stream"), "stream")
    starting_after = _starting_after(req.query_params.get("starting_after"))
    include = requests.include(req.url.query, INCLUDABLE)
    record = await asyncio.to_thread(response_runs.stored_response, principal, req.path_params["response_id"])
    if stream:
        return event_stream(principal, record, starting_after)
    return requests.json_response(await asyncio.to_thread(response_answers.render, principal, record, None, include))


@endpoint(bp, "DELETE", RESPONSE_ID, summary="Delete a response", tag=TAG, openai_v1=True)
def responses_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    response_id = req.route_params["response_id"]
    response_runs.stored_response(principal, response_id)
    responses().delete(principal, response_id)
    return requests.json_response(response_objects.response_deleted(response_id))


@endpoint(bp, "POST", RESPONSE_ID + "/cancel", summary="Cancel a background response", tag=TAG,
          durable_client=True, openai_v1=True)
async def responses_cancel(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    record = await asyncio.to_thread(response_runs.stored_response, principal, req.route_params["response_id"])
    return requests.json_response(await response_answers.cancel(client, principal, record))


@endpoint(bp, "GET", RESPONSE_ID + "/input_items", summary="List a response's input items", tag=TAG,
          openai_v1=True, query=(
              QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "How many items."),
              QueryParam("order", {"type": "string", "enum": ["asc", "desc"], "default": "desc"}, "Order."),
              QueryParam("after", {"type": "string"}, "Items after this item id (in the requested order).")))
def responses_input_items(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    record = response_runs.stored_response(principal, req.route_params["response_id"])
    cursor_free = func.HttpRequest(method="GET", url=req.url, body=b"", params={
        name: value for name, value in req.params.items() if name in ("limit", "order")})
    page = requests.page_request(cursor_free, "message")
    items = list(record.get("input_items") or [])
    items = items[::-1] if page.order == "desc" else items
    after = req.params.get("after") or None
    if after is not None:
        positions = [index for index, item in enumerate(items) if item["id"] == after]
        if not positions:
            raise InvalidRequest(f"Invalid 'after': no input item '{urllib.parse.quote(after[:64])}' in this "
                                 "response.", param="after", code="invalid_value")
        items = items[positions[0] + 1:]
    return requests.json_response(response_objects.item_list(items[:page.limit], len(items) > page.limit))
