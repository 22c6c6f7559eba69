"""/v1/threads/{thread_id}/messages: create, list (with run_id filter), retrieve, modify, delete."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from api import requests, services
from api.file_search_resources import index_attachments
from api.routing import QueryParam, endpoint, pagination_params
from core import ids
from core.wire.common import DeletedObject
from core.wire.messages import Message, MessageCreate, MessageUpdate, new_message

bp = df.Blueprint()
TAG = "Messages"


@endpoint(bp, "POST", "threads/{thread_id}/messages", summary="Create a message", tag=TAG, body=MessageCreate,
          response=Message, durable_client=True)
async def messages_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    thread_id = req.route_params["thread_id"]
    body = requests.body(req, MessageCreate)
    await asyncio.to_thread(services.require_files, principal, body.referenced_file_ids())
    record = new_message(ids.new_id("message"), thread_id, services.now(), body)
    created = await asyncio.to_thread(services.messages().create, principal, record)
    await index_attachments(client, principal, thread_id, [created])  # file_search attachments: the thread's store
    return requests.json_response(created)


@endpoint(bp, "GET", "threads/{thread_id}/messages", summary="List messages", tag=TAG, list_of=Message,
          query=pagination_params() + (QueryParam("run_id", {"type": "string"}, "Only messages created by this run."),))
def messages_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = services.messages().list(principal, req.route_params["thread_id"],
                                    requests.page_request(req, "message"), run_id=req.params.get("run_id") or None)
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "threads/{thread_id}/messages/{message_id}", summary="Retrieve a message", tag=TAG,
          response=Message)
def messages_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    route = req.route_params
    return requests.json_response(
        services.messages().get(principal, route["thread_id"], route["message_id"]))


@endpoint(bp, "POST", "threads/{thread_id}/messages/{message_id}", summary="Modify a message", tag=TAG,
          body=MessageUpdate, response=Message)
def messages_update(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    route = req.route_params
    body = requests.body(req, MessageUpdate)

    def change(current: dict) -> dict:
        return {**current, "metadata": body.metadata or {}} if "metadata" in body.model_fields_set else current

    return requests.json_response(
        services.messages().update(principal, route["thread_id"], route["message_id"], change))


@endpoint(bp, "DELETE", "threads/{thread_id}/messages/{message_id}", summary="Delete a message", tag=TAG,
          response=DeletedObject)
def messages_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    route = req.route_params
    services.messages().delete(principal, route["thread_id"], route["message_id"])
    return requests.json_response({"id": route["message_id"], "object": "thread.message.deleted", "deleted": True})
