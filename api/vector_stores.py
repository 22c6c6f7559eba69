"""/v1/vector_stores: create, list, retrieve, modify, delete, and search a store.

Creating a store with `file_ids` attaches them and starts their ingestion
(api/vector_store_files.py `attach_and_ingest`); ingestion itself is durable
work (orchestrators/ingestion.py), never done inside the request.
"""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
import azure.functions as func

from api import requests, services
from api.routing import endpoint, pagination_params
from api.vector_store_files import attach_and_ingest
from core import ids
from core import vector_store_search as file_search
from core.repositories.shared import vector_stores
from core.wire.common import DeletedObject
from core.wire.vector_stores import (
    BatchFile,
    SearchRequest,
    SearchResultsPage,
    VectorStore,
    VectorStoreCreate,
    VectorStoreUpdate,
    new_vector_store,
)

bp = df.Blueprint()
TAG = "Vector stores"


def _view(principal: str, record: dict) -> dict:
    return vector_stores().view(principal, record, services.now())


@endpoint(bp, "POST", "vector_stores", summary="Create a vector store", tag=TAG, body=VectorStoreCreate,
          response=VectorStore, durable_client=True)
async def vector_stores_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, VectorStoreCreate)
    await asyncio.to_thread(services.require_files, principal,
                            [(file_id, f"file_ids[{index}]") for index, file_id in enumerate(body.file_ids)])
    now = services.now()
    record = new_vector_store(ids.new_id("vector_store"), now, body.name, body.description,
                              body.expires_after.model_dump() if body.expires_after else None, body.metadata)
    await asyncio.to_thread(vector_stores().create_store, principal, record)
    entries = [BatchFile(file_id=file_id, chunking_strategy=body.chunking_strategy) for file_id in body.file_ids]
    if entries:
        await attach_and_ingest(client, principal, record["id"], entries)
    return requests.json_response(await asyncio.to_thread(_view, principal, record))


@endpoint(bp, "GET", "vector_stores", summary="List vector stores", tag=TAG, list_of=VectorStore,
          query=pagination_params())
def vector_stores_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = vector_stores().list_stores(principal, requests.page_request(req, "vector_store"))
    page.data = [_view(principal, record) for record in page.data]
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "vector_stores/{vector_store_id}", summary="Retrieve a vector store", tag=TAG,
          response=VectorStore)
def vector_stores_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(_view(principal, vector_stores().load_store(principal, req.route_params["vector_store_id"])))


@endpoint(bp, "POST", "vector_stores/{vector_store_id}", summary="Modify a vector store", tag=TAG,
          body=VectorStoreUpdate, response=VectorStore)
def vector_stores_update(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, VectorStoreUpdate)
    sent = body.model_fields_set

    def change(current: dict) -> dict:
        updated = dict(current)
        if "name" in sent:
            updated["name"] = body.name or ""
        if "metadata" in sent:
            updated["metadata"] = body.metadata or {}
        if "expires_after" in sent:
            updated["expires_after"] = body.expires_after.model_dump() if body.expires_after else None
        return updated

    record = vector_stores().update_store(principal, req.route_params["vector_store_id"], change)
    return requests.json_response(_view(principal, record))


@endpoint(bp, "DELETE", "vector_stores/{vector_store_id}", summary="Delete a vector store", tag=TAG,
          response=DeletedObject)
def vector_stores_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    store_id = req.route_params["vector_store_id"]
    vector_stores().delete_store(principal, store_id)
    return requests.json_response({"id": store_id, "object": "vector_store.deleted", "deleted": True})


@endpoint(bp, "POST", "vector_stores/{vector_store_id}/search", summary="Search a vector store", tag=TAG,
          body=SearchRequest, response=SearchResultsPage)
def vector_stores_search(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, SearchRequest)
    threshold = (body.ranking_options.score_threshold if body.ranking_options else None) or 0.0
    results = file_search.search(
        principal, [req.route_params["vector_store_id"]], " ".join(body.queries()),
        max_num_results=body.max_num_results, score_threshold=threshold,
        filters=body.filters.model_dump() if body.filters else None)
    page = SearchResultsPage.model_validate({"search_query": body.queries(), "data": [
        {"file_id": result.file_id, "filename": result.file_name, "score": result.score,
         "attributes": result.attributes, "content": [{"type": "text", "text": result.content}]}
        for result in results]})
    response = requests.json_response(page.model_dump(mode="json"))
    response.headers["x-file-search-mode"] = file_search.mode()
    return response
