"""/v1/threads: create (with initial messages), retrieve, modify, delete."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from api import requests, services
from api.file_search_resources import index_attachments, materialize, search_attachments, with_resources_ready
from api.routing import endpoint
from core import ids
from core.wire.common import DeletedObject, referenced_file_ids
from core.wire.messages import new_message
from core.wire.threads import Thread, ThreadCreate, ThreadUpdate, apply_update, new_thread

bp = df.Blueprint()
TAG = "Threads"


def new_thread_records(principal: str, body: ThreadCreate, thread_id: str | None = None) -> tuple[dict, list[dict]]:
    """Validate references, then the new thread's record and its initial messages' (in order);
    `thread_id`: the id chosen beforehand (a retried create_and_run takes its first attempt's)."""
    references = referenced_file_ids(body.tool_resources, "tool_resources")
    for index, message in enumerate(body.messages):
        references += message.referenced_file_ids(f"messages[{index}]")
    services.require_files(principal, references)
    created_at = services.now()
    thread = new_thread(thread_id or ids.new_id("thread"), created_at, body)
    return thread, [new_message(ids.new_id("message"), thread["id"], created_at, message) for message in body.messages]


def create_thread(principal: str, body: ThreadCreate, thread_id: str | None = None) -> dict:
    """Store a new thread with its initial messages."""
    thread, messages = new_thread_records(principal, body, thread_id)
    with services.messages().staged() as staged:
        return services.threads().create(principal, thread, services.messages().insert_all_ops(principal, messages, staged))


async def ready_for_thread(client, principal: str, body: ThreadCreate | None,
                           store_id: str | None = None) -> ThreadCreate:
    """`body` with its inline vector store made (named by id instead); `store_id`: the id chosen for it
    beforehand (a retried create_and_run finds the store its first attempt made)."""
    body = body or ThreadCreate()
    return body.model_copy(update={"tool_resources": await materialize(client, principal, body.tool_resources,
                                                                       "tool_resources", store_id)})


def needs_attachments_indexed(body: ThreadCreate) -> bool:
    """Whether the thread's messages carry file_search attachments (indexed into its own store once it exists)."""
    return bool(search_attachments([message.model_dump() for message in body.messages]))


async def create_thread_with_files(client, principal: str, body: ThreadCreate | None,
                                   thread_id: str | None = None, store_id: str | None = None) -> dict:
    """create_thread, with the thread's inline vector store made and its file_search attachments indexed."""
    body = await ready_for_thread(client, principal, body, store_id)
    thread = await asyncio.to_thread(create_thread, principal, body, thread_id)
    if not needs_attachments_indexed(body):
        return thread
    await index_attachments(client, principal, thread["id"], [message.model_dump() for message in body.messages])
    return await asyncio.to_thread(services.threads().get, principal, thread["id"])  # now with its own store


@endpoint(bp, "POST", "threads", summary="Create a thread", tag=TAG, body=ThreadCreate, response=Thread,
          durable_client=True)
async def threads_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    return requests.json_response(await create_thread_with_files(client, principal, requests.body(req, ThreadCreate)))


@endpoint(bp, "GET", "threads/{thread_id}", summary="Retrieve a thread", tag=TAG, response=Thread)
def threads_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(services.threads().get(principal, req.route_params["thread_id"]))


@endpoint(bp, "POST", "threads/{thread_id}", summary="Modify a thread", tag=TAG, body=ThreadUpdate, response=Thread,
          durable_client=True)
async def threads_update(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    thread_id = req.route_params["thread_id"]
    body = requests.body(req, ThreadUpdate)
    await asyncio.to_thread(services.threads().get, principal, thread_id)  # 404 before creating anything
    body = await with_resources_ready(client, principal, body)
    updated = await asyncio.to_thread(services.threads().update, principal, thread_id,
                                      lambda current: apply_update(current, body))
    return requests.json_response(updated)


@endpoint(bp, "DELETE", "threads/{thread_id}", summary="Delete a thread with its messages, runs and steps",
          tag=TAG, response=DeletedObject)
def threads_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    thread_id = req.route_params["thread_id"]
    services.threads().delete(principal, thread_id)
    return requests.json_response({"id": thread_id, "object": "thread.deleted", "deleted": True})
