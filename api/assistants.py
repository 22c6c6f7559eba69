"""/v1/assistants: create, list, retrieve, modify, delete."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from api import requests, services
from api.file_search_resources import with_resources_ready
from api.routing import endpoint, pagination_params
from core import ids
from core.wire.assistants import Assistant, AssistantCreate, AssistantUpdate, apply_update, new_assistant
from core.wire.common import DeletedObject

bp = df.Blueprint()
TAG = "Assistants"


@endpoint(bp, "POST", "assistants", summary="Create an assistant", tag=TAG, body=AssistantCreate, response=Assistant,
          durable_client=True)
async def assistants_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, AssistantCreate)
    body = await with_resources_ready(client, principal, body)
    record = new_assistant(ids.new_id("assistant"), services.now(), body)
    return requests.json_response(await asyncio.to_thread(services.assistants().insert, principal, record))


@endpoint(bp, "GET", "assistants", summary="List assistants", tag=TAG, list_of=Assistant, query=pagination_params())
def assistants_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = services.assistants().list(principal, requests.page_request(req, "assistant"))
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "assistants/{assistant_id}", summary="Retrieve an assistant", tag=TAG, response=Assistant)
def assistants_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(services.assistants().get(principal, req.route_params["assistant_id"]))


@endpoint(bp, "POST", "assistants/{assistant_id}", summary="Modify an assistant", tag=TAG, body=AssistantUpdate,
          response=Assistant, durable_client=True)
async def assistants_update(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    assistant_id = req.route_params["assistant_id"]
    body = requests.body(req, AssistantUpdate)
    await asyncio.to_thread(services.assistants().get, principal, assistant_id)  # 404 before creating anything
    body = await with_resources_ready(client, principal, body)
    updated = await asyncio.to_thread(services.assistants().update, principal, assistant_id,
                                      lambda current: apply_update(current, body))
    return requests.json_response(updated)


@endpoint(bp, "DELETE", "assistants/{assistant_id}", summary="Delete an assistant", tag=TAG, response=DeletedObject)
def assistants_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    assistant_id = req.route_params["assistant_id"]
    services.assistants().delete(principal, assistant_id)
    return requests.json_response({"id": assistant_id, "object": "assistant.deleted", "deleted": True})
