"""What the ingestion orchestrator and its activities say to each other: names and typed payloads.

As for runs (core/run_protocol.py), each payload is a small dataclass sent as a plain dict
(`.wire()`) and rebuilt on arrival (`.of(dict)`); they carry ids only, never file contents.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.run_protocol import Payload

ORCHESTRATOR = "ingestion_orchestrator"
INGEST_FILE = "ingest_vector_store_file"
FAIL_FILES = "fail_vector_store_files"


@dataclass(frozen=True)
class IngestionJob(Payload):
    """The orchestration's input: a store's newly attached files, in order."""

    principal: str
    vector_store_id: str
    file_ids: list[str]

    def file(self, file_id: str) -> "FileRef":
        return FileRef(self.principal, self.vector_store_id, file_id)

    def files(self, file_ids: list[str]) -> "FilesRef":
        return FilesRef(self.principal, self.vector_store_id, file_ids)


@dataclass(frozen=True)
class FileRef(Payload):
    """One file to ingest into one store."""

    principal: str
    vector_store_id: str
    file_id: str


@dataclass(frozen=True)
class FilesRef(Payload):
    """Files an ingestion could not finish."""

    principal: str
    vector_store_id: str
    file_ids: list[str]


@dataclass(frozen=True)
class IngestOutcome(Payload):
    """How one file's ingestion ended: completed, failed (with OpenAI's last_error code), or left
    alone (gone, discarded, already settled: its record's status)."""

    status: str
    code: str | None = None
    chunks: int | None = None
