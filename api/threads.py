"""/v1/threads: create (with initial messages), retrieve, modify, delete."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from api import requests
from api.routing import endpoint
from core.wire.common import DeletedObject
from core.wire.threads import Thread, ThreadCreate, ThreadUpdate, apply_update
from usecases import services
from usecases.file_search_resources import with_resources_ready
from usecases.thread_creation import create_thread_with_files

bp = df.Blueprint()
TAG = "Threads"


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
