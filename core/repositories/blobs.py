"""Writing and removing content blobs: what the Files API and containers' files share.

A blob is written as staged blocks and committed once, so a reader never sees a partial
one; a failed write removes whatever it staged. Callers name blobs after ids they issued,
never after anything a caller sent.
"""

from __future__ import annotations

import base64
from typing import Iterable, Iterator

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobClient, ContentSettings

BLOCK_BYTES = 4 * 1024 * 1024


def write_blocks(blob: BlobClient, chunks: Iterable[bytes | memoryview], content_type: str | None = None) -> int:
    """Stage `chunks` as blocks of BLOCK_BYTES and commit them; the blob's size. On any failure the blob
    is deleted again (nothing staged or committed is left behind) and the error propagates."""
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
    except BaseException:
        delete_quietly(blob)
        raise
    return size


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


def delete_quietly(blob: BlobClient) -> None:
    try:
        blob.delete_blob(delete_snapshots="include")
    except ResourceNotFoundError:
        pass
