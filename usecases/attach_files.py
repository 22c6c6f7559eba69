"""Attaching files to a vector store, ingested durably.

`attach_and_ingest` is what every way of adding files goes through (store
create, file create, batch create, a thread's or an inline store's files): it
writes the store-file records as `in_progress`, then starts the ingestion
orchestration; if that cannot start, the files end `failed` instead of staying
in progress forever.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from core.errors import InvalidRequest, NotFound
from core.file_search import chunking
from core.ingestion_protocol import ORCHESTRATOR, IngestionJob
from core.repositories.shared import files, vector_stores
from core.vector_store_bookkeeping import StoreFileBookkeeping
from core.wire.vector_stores import BatchFile, new_vector_store_file
from usecases import services
from usecases.run_orchestration import started_after_all

logger = logging.getLogger(__name__)


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
