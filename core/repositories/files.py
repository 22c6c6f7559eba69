"""Files: the `file` record in Table storage (by owner), the bytes in Blob storage.

The blob is named after the file id only — never after anything the caller
sent — and is written in blocks, committed before the record is inserted, and
removed again if the record cannot be written, so a failed upload leaves
nothing behind.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobClient

from core import ids
from core.errors import NotFound
from core.pagination import Page, PageRequest
from core.repositories.blobs import BLOCK_BYTES, delete_quietly, write_blocks
from core.repositories.owned import OwnedRecords
from core.store import Store
from core.wire.files import FileObject

CONTAINER = "files"
__all__ = ["BLOCK_BYTES", "CONTAINER", "FileRepository"]


class FileRepository(OwnedRecords):
    def __init__(self, store: Store):
        super().__init__(store, "files", "file", "file")

    def _blob(self, file_id: str) -> BlobClient:
        return self._store.container(CONTAINER).get_blob_client(file_id)

    def create(self, principal: str, *, filename: str, purpose: str, chunks: Iterable[bytes | memoryview],
               created_at: int, expires_at: int | None = None, content_type: str | None = None,
               file_id: str | None = None) -> dict[str, Any]:
        """Store the bytes (streamed as blocks), then the record; returns the file object (`file_id`: a
        new id chosen by the caller, which names the file before it is stored)."""
        file_id = file_id or ids.new_id("file")
        blob = self._blob(file_id)
        size = write_blocks(blob, chunks, content_type)
        try:
            # validated from a dict, as the constructor would: `purpose` is checked against FilePurpose here
            record = FileObject.model_validate({"id": file_id, "bytes": size, "created_at": created_at,
                                                "expires_at": expires_at, "filename": filename,
                                                "purpose": purpose}).model_dump(mode="json")
            return self.insert(principal, record, {"purpose": purpose})
        except BaseException:
            delete_quietly(blob)
            raise

    def list(self, principal: str, request: PageRequest, purpose: str | None = None) -> Page:
        if purpose is None:
            return super().list(principal, request)
        return self.list_where(principal, request, "purpose eq @purpose", {"purpose": purpose})

    def delete(self, principal: str, object_id: str) -> dict[str, Any]:
        entity = super().delete(principal, object_id)
        delete_quietly(self._blob(object_id))
        return entity

    def content(self, principal: str, file_id: str) -> tuple[dict[str, Any], Iterator[bytes]]:
        """The file object and its bytes as a stream of chunks (NotFound for unknown or foreign ids)."""
        record, _ = self.load(principal, file_id)
        try:
            downloader = self._blob(file_id).download_blob(max_concurrency=1)
        except ResourceNotFoundError as error:
            raise NotFound("file", file_id) from error
        return record, downloader.chunks()
