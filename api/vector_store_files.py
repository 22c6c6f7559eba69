"""/v1/vector_stores/{id}/files and /file_batches: attach files (ingested durably), list, update, remove.

`attach_and_ingest` is what every way of adding files goes through (store
create, file create, batch create): it writes the store-file records as
`in_progress`, then starts the ingestion orchestration; if that cannot start,
the files end `failed` instead of staying in progress forever.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import azure.durable_functions as df
import azure.functions as func

from api import requests, services
from api.routing import QueryParam, endpoint, pagination_params
from api.run_orchestration import started_after_all
from core import ids
from core.errors import InvalidRequest, NotFound
from core.file_search import chunking
from core.ingestion_protocol import ORCHESTRATOR, IngestionJob
from core.repositories.shared import files, vector_stores
from core.repositories.vector_stores import STATUSES
from core.vector_store_bookkeeping import BatchBookkeeping, StoreFileBookkeeping
from core.wire.common import DeletedObject
from core.wire.vector_stores import (
    BatchFile,
    FileBatchCreate,
    StoreFileCreate,
    StoreFileUpdate,
    VectorStoreFile,
    VectorStoreFileBatch,
    new_file_batch,
    new_vector_store_file,
)

bp = df.Blueprint()
TAG = "Vector stores"
FILTER_PARAM = QueryParam("filter", {"type": "string", "enum": list(STATUSES)}, "Only files with this status.")
logger = logging.getLogger(__name__)


def _store_id(req: func.HttpRequest, principal: str) -> str:
    """The path's store id, which must name a store the caller owns (404 otherwise)."""
    store_id = req.route_params["vector_store_id"]
    vector_stores().load_store(principal, store_id)
    return store_id


def _records(principal: str, store_id: str, entries: list[BatchFile], batch_id: str | None,
             param: str) -> list[tuple[dict, StoreFileBookkeeping]]:
    now = services.now()
    records = []
    for index, entry in enumerate(entries):
        try:
            file = files().get(principal, entry.file_id)
        except NotFound:
            raise InvalidRequest(f"No file found with id '{entry.file_id}'.", param=param.format(index=index),
                                 code="invalid_value") from None
        strategy = entry.chunking_strategy.model_dump() if entry.chunking_strategy else None
        records.append((new_vector_store_file(entry.file_id, store_id, now, chunking.resolved(strategy),
                                              entry.attributes),
                        StoreFileBookkeeping(filename=file["filename"], batch_id=batch_id)))
    return list({record["id"]: (record, books) for record, books in records}.values())  # named twice: attached once, as last


async def attach_and_ingest(client, principal: str, store_id: str, entries: list[BatchFile],
                            batch_id: str | None = None, param: str = "file_ids[{index}]",
                            instance_id: str | None = None) -> list[dict]:
    """`instance_id`: the ingestion's, chosen by the caller so that a retry can tell it started (a start
    refused because it did, by another attempt of the same request, is no failure)."""
    attached = await asyncio.to_thread(_records, principal, store_id, entries, batch_id, param)
    for record, books in attached:
        await asyncio.to_thread(vector_stores().attach, principal, record, books)
    records = [record for record, _ in attached]
    job = IngestionJob(principal, store_id, [record["id"] for record in records])
    try:
        await client.start_new(ORCHESTRATOR, instance_id or batch_id or f"ingest-{uuid.uuid4().hex}", job.wire())
    except Exception:
        if instance_id and await started_after_all(client, instance_id):
            return records
        logger.exception("starting the ingestion of %s failed", job.file_ids)
        await asyncio.to_thread(vector_stores().fail_files, principal, store_id, job.file_ids)
        raise
    return records


# ---- store files ------------------------------------------------------------------------------

@endpoint(bp, "POST", "vector_stores/{vector_store_id}/files", summary="Create a vector store file", tag=TAG,
          body=StoreFileCreate, response=VectorStoreFile, durable_client=True)
async def vector_store_files_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, StoreFileCreate)
    store_id = await asyncio.to_thread(_store_id, req, principal)
    entry = BatchFile(file_id=body.file_id, attributes=body.attributes, chunking_strategy=body.chunking_strategy)
    [record] = await attach_and_ingest(client, principal, store_id, [entry], param="file_id")
    return requests.json_response(record)


@endpoint(bp, "GET", "vector_stores/{vector_store_id}/files", summary="List vector store files", tag=TAG,
          list_of=VectorStoreFile, query=pagination_params() + (FILTER_PARAM,))
def vector_store_files_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    store_id = _store_id(req, principal)
    page = vector_stores().list_files(principal, store_id, requests.page_request(req, "file"), _status_filter(req))
    return requests.json_response(page.wire())


def _status_filter(req: func.HttpRequest) -> str | None:
    value = req.params.get("filter") or None
    if value is not None and value not in STATUSES:
        raise InvalidRequest(f"Invalid value: '{value}'. Supported values are: "
                             f"{', '.join(repr(status) for status in STATUSES)}.", param="filter", code="invalid_value")
    return value


@endpoint(bp, "GET", "vector_stores/{vector_store_id}/files/{file_id}", summary="Retrieve a vector store file",
          tag=TAG, response=VectorStoreFile)
def vector_store_files_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    store_id = _store_id(req, principal)
    record = vector_stores().store_file(principal, store_id, req.route_params["file_id"])
    return requests.json_response(record)


@endpoint(bp, "POST", "vector_stores/{vector_store_id}/files/{file_id}", summary="Update a vector store file's "
          "attributes", tag=TAG, body=StoreFileUpdate, response=VectorStoreFile)
def vector_store_files_update(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, StoreFileUpdate)
    store_id = _store_id(req, principal)
    record = vector_stores().update_file(
        principal, store_id, req.route_params["file_id"], lambda current: {**current, "attributes": body.attributes or {}})
    return requests.json_response(record)


@endpoint(bp, "DELETE", "vector_stores/{vector_store_id}/files/{file_id}", summary="Delete a vector store file",
          tag=TAG, response=DeletedObject)
def vector_store_files_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    file_id = req.route_params["file_id"]
    vector_stores().detach(principal, _store_id(req, principal), file_id)
    return requests.json_response({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})


@endpoint(bp, "GET", "vector_stores/{vector_store_id}/files/{file_id}/content",
          summary="Retrieve a vector store file's parsed chunks", tag=TAG)
def vector_store_files_content(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    store_id = _store_id(req, principal)
    record, books = vector_stores().stored_file(principal, store_id, req.route_params["file_id"])
    segment = vector_stores().segments.read(store_id, record["id"], books.segment) if books.segment else None
    texts = segment.texts if segment else []
    return requests.json_response({"object": "vector_store.file_content.page", "has_more": False, "next_page": None,
                                   "data": [{"type": "text", "text": text} for text in texts]})


# ---- file batches -----------------------------------------------------------------------------

def _batch(req: func.HttpRequest, principal: str) -> tuple[dict, BatchBookkeeping]:
    store_id = _store_id(req, principal)
    return vector_stores().load_batch(principal, store_id, req.route_params["batch_id"])


@endpoint(bp, "POST", "vector_stores/{vector_store_id}/file_batches", summary="Create a vector store file batch",
          tag=TAG, body=FileBatchCreate, response=VectorStoreFileBatch, durable_client=True)
async def vector_store_file_batches_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, FileBatchCreate)
    store_id = await asyncio.to_thread(_store_id, req, principal)
    record = new_file_batch(ids.new_id("vector_store_file_batch"), store_id, services.now())
    await asyncio.to_thread(vector_stores().create_batch, principal, record)
    param = "file_ids[{index}]" if body.file_ids is not None else "files[{index}].file_id"
    await attach_and_ingest(client, principal, store_id, body.entries(), record["id"], param)
    return requests.json_response(await asyncio.to_thread(vector_stores().batch_view, principal, record,
                                                          BatchBookkeeping()))


@endpoint(bp, "GET", "vector_stores/{vector_store_id}/file_batches/{batch_id}",
          summary="Retrieve a vector store file batch", tag=TAG, response=VectorStoreFileBatch)
def vector_store_file_batches_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(vector_stores().batch_view(principal, *_batch(req, principal)))


@endpoint(bp, "POST", "vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel",
          summary="Cancel a vector store file batch", tag=TAG, response=VectorStoreFileBatch)
def vector_store_file_batches_cancel(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    """Files still in progress end `cancelled`; their ingestion finds that and keeps nothing."""
    batch, _ = _batch(req, principal)
    return requests.json_response(vector_stores().batch_view(
        principal, *vector_stores().cancel_batch(principal, batch["vector_store_id"], batch["id"])))


@endpoint(bp, "GET", "vector_stores/{vector_store_id}/file_batches/{batch_id}/files",
          summary="List the files of a vector store file batch", tag=TAG, list_of=VectorStoreFile,
          query=pagination_params() + (FILTER_PARAM,))
def vector_store_file_batches_files(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    batch, _ = _batch(req, principal)
    page = vector_stores().list_files(principal, batch["vector_store_id"], requests.page_request(req, "file"),
                                      _status_filter(req), batch_id=batch["id"])
    return requests.json_response(page.wire())
