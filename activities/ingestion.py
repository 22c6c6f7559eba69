"""Ingesting one file into one vector store: parse → chunk → embed → write its segment → mark it.

Idempotent, so a retry or a replay after a crash is harmless: the file is
skipped unless its record is still `in_progress`, chunks go to a new segment
version (never appended to an old one), and the record is switched to that
version only while still `in_progress` — a file cancelled or removed meanwhile
gets its new segment deleted instead. A file that cannot be read ends `failed`
with OpenAI's last_error code; the store stays usable. So does a file the search
backend cannot take (an Azure AI Search index not provisioned): its last_error says why.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
import openai

from core.errors import NotFound, ServerError
from core.file_search import chunking, embeddings, parsing
from core.file_search.backends import backend
from core.file_search.segments import Segment
from core.ingestion_protocol import FileRef, FilesRef, IngestOutcome
from core.repositories.shared import files, vector_stores

bp = df.Blueprint()
# What one instance reads whole (PDF and Office parsers need the whole file) and what OpenAI accepts per file.
MAX_INGEST_BYTES = 128 * 1024 * 1024
logger = logging.getLogger(__name__)


def _fail(principal: str, store_id: str, file_id: str, code: str, message: str) -> dict:
    vector_stores().fail_file(principal, store_id, file_id, code, message)
    return IngestOutcome("failed", code=code).wire()


@bp.activity_trigger(input_name="request")
def ingest_vector_store_file(request: dict) -> dict:
    ref = FileRef.of(request)
    principal, store_id, file_id = ref.principal, ref.vector_store_id, ref.file_id
    repository = vector_stores()
    try:
        record, books = repository.stored_file(principal, store_id, file_id)
    except NotFound:
        return IngestOutcome("gone").wire()
    if record["status"] != "in_progress":
        return IngestOutcome(record["status"]).wire()
    try:
        file, content = files().content(principal, file_id)
        if file["bytes"] > MAX_INGEST_BYTES:
            return _fail(principal, store_id, file_id, "invalid_file",
                         f"The file is larger than {MAX_INGEST_BYTES // (1024 * 1024)} MB, the most file_search reads.")
        data = b"".join(content)
    except NotFound:
        return _fail(principal, store_id, file_id, "invalid_file", "The file was deleted before it could be read.")
    try:
        text = parsing.text_of(books.filename, data)
    except parsing.Unreadable as error:  # INGESTION_MAX_TEXT_MB stands for OpenAI's 5,000,000 tokens per file
        return _fail(principal, store_id, file_id, error.code, error.message)
    pieces = chunking.chunk(text, record["chunking_strategy"])
    try:
        vectors = embeddings.embed(pieces)
    except openai.OpenAIError as error:
        logger.warning("embedding %s for %s failed: %s", file_id, store_id, error)
        return _fail(principal, store_id, file_id, "server_error", "The embeddings model could not be reached.")
    segment = Segment(pieces, vectors)
    version = repository.segments.write(store_id, file_id, segment)
    try:
        backend(repository.segments).add(store_id, file_id, version, segment)
    except ServerError as error:  # the search index is missing or of another vector size: provisioning's to fix
        logger.error("indexing %s for %s failed: %s", file_id, store_id, error.message)
        repository.segments.delete_version(store_id, file_id, version)
        return _fail(principal, store_id, file_id, "server_error", error.message)
    if vector_stores().settle_file(principal, store_id, file_id, status="completed", usage_bytes=segment.size_bytes, segment=version):
        repository.segments.delete(store_id, file_id, keep=version)  # versions of crashed or earlier attempts
        return IngestOutcome("completed", chunks=len(pieces)).wire()
    repository.segments.delete_version(store_id, file_id, version)
    return IngestOutcome("discarded").wire()


@bp.activity_trigger(input_name="request")
def fail_vector_store_files(request: dict) -> dict:
    """Files an ingestion could not finish (an activity failed past its retries) end `failed`."""
    ref = FilesRef.of(request)
    vector_stores().fail_files(ref.principal, ref.vector_store_id, ref.file_ids)
    return {"failed": len(ref.file_ids)}
