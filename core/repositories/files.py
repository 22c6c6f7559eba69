"""Files: the `file` record in Table storage (by owner), the bytes in Blob storage.

The blob is named after the file id only — never after anything the caller
sent — and is written in blocks, committed before the record is inserted, and
removed again if the record cannot be written, so a failed upload leaves
nothing behind.
"""

from __future__ import annotations

import base64
from typing import Iterable, Iterator

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, ContentSettings

from core import ids
from core.errors import NotFound
from core.pagination import Page, PageRequest
from core.repositories.owned import OwnedRecords
from core.store import Store
from core.wire.files import FileObject

CONTAINER = "files"
BLOCK_BYTES = 4 * 1024 * 1024


class FileRepository(OwnedRecords):
    def __init__(self, store: Store):
        super().__init__(store, "files", "file", "file")

    def _blob(self, file_id: str) -> BlobClient:
        return self._store.container(CONTAINER).get_blob_client(file_id)

    def create(self, principal: str, *, filename: str, purpose: str, chunks: Iterable[bytes | memoryview],
               created_at: int, expires_at: int | None = None, content_type: str | None = None,
               file_id: str | None = None) -> dict:
        """Store the bytes (streamed as blocks), then the record; returns the file object (`file_id`: a
        new id chosen by the caller, which names the file before it is stored)."""
        file_id = file_id or ids.new_id("file")
        blob = self._blob(file_id)
        block_ids: list[str] = []
        size = 0
        try:
            for chunk in _blocks(chunks):
                block_id = base64.b64encode(f"{len(block_ids):08d}".encode()).decode()
                # (the stub omits memoryview; the SDK sends any bytes-like body, and a view avoids a copy)
                blob.stage_block(block_id, chunk, length=len(chunk))  # type: ignore[arg-type]
                block_ids.append(block_id)
                size += len(chunk)
            blob.commit_block_list(
                [BlobBlock(block_id) for block_id in block_ids],
                content_settings=ContentSettings(content_type=content_type or "application/octet-stream"),
            )
            # validated from a dict, as the constructor would: `purpose` is checked against FilePurpose here
            record = FileObject.model_validate({"id": file_id, "bytes": size, "created_at": created_at,
                                                "expires_at": expires_at, "filename": filename,
                                                "purpose": purpose}).model_dump(mode="json")
            return self.insert(principal, record, {"purpose": purpose})
        except BaseException:
            _delete_quietly(blob)
            raise

    def list(self, principal: str, request: PageRequest, purpose: str | None = None) -> Page:
        if purpose is None:
            return super().list(principal, request)
        return self.list_where(principal, request, "purpose eq @purpose", {"purpose": purpose})

    def delete(self, principal: str, object_id: str) -> dict:
        entity = super().delete(principal, object_id)
        _delete_quietly(self._blob(object_id))
        return entity

    def content(self, principal: str, file_id: str) -> tuple[dict, Iterator[bytes]]:
        """The file object and its bytes as a stream of chunks (NotFound for unknown or foreign ids)."""
        record, _ = self.load(principal, file_id)
        try:
            downloader = self._blob(file_id).download_blob(max_concurrency=1)
        except ResourceNotFoundError as error:
            raise NotFound("file", file_id) from error
        return record, downloader.chunks()


def _blocks(chunks: Iterable[bytes | memoryview]) -> Iterator[memoryview]:
    """Re-cut arbitrary chunks into blocks of BLOCK_BYTES without copying large inputs."""
    pending = bytearray()
    for chunk in chunks:
        view = memoryview(chunk)
        if not pending and len(view) >= BLOCK_BYTES:
            whole = len(view) - len(view) % BLOCK_BYTES
            for start in range(0, whole, BLOCK_BYTES):
                yield view[start:start + BLOCK_BYTES]
            view = view[whole:]
        pending += view
        while len(pending) >= BLOCK_BYTES:
            yield memoryview(bytes(pending[:BLOCK_BYTES]))
            del pending[:BLOCK_BYTES]
    if pending:
        yield memoryview(bytes(pending))


def _delete_quietly(blob: BlobClient) -> None:
    try:
        blob.delete_blob(delete_snapshots="include")
    except ResourceNotFoundError:
        pass
