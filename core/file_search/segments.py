"""A file's chunks (texts and embeddings) as one immutable blob: a segment of a vector store's index.

Ingestion writes a new segment under a fresh version name, then points the
vector store file's record at it; search loads the version the record names.
A segment is never rewritten in place, so a reader never sees half of one, a
re-run of a crashed ingestion cannot duplicate chunks (it writes a whole new
version), and deleting a file removes every version under its prefix.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from core.store import Store

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

CONTAINER = "vector-store-chunks"


@dataclass(frozen=True)
class Segment:
    """One file's chunks as ingestion writes them and search loads them: one immutable blob per version."""

    texts: list[str]
    vectors: np.ndarray | None  # unit-length float32 rows, one per text; None without embeddings

    @property
    def size_bytes(self) -> int:
        """What the file uses in the store (its usage_bytes): chunk text plus vectors."""
        vector_bytes = self.vectors.nbytes if self.vectors is not None else 0
        return sum(len(text.encode("utf-8")) for text in self.texts) + vector_bytes


def encode(segment: Segment) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    texts = np.frombuffer(json.dumps(segment.texts, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
    if segment.vectors is not None:
        np.savez(buffer, texts=texts, vectors=segment.vectors.astype(np.float32))
    else:
        np.savez(buffer, texts=texts)
    return buffer.getvalue()


def decode(data: bytes) -> Segment:
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        texts = json.loads(arrays["texts"].tobytes().decode("utf-8"))
        vectors = arrays["vectors"] if "vectors" in arrays.files else None
    return Segment(texts, vectors)


def _prefix(vector_store_id: str, file_id: str) -> str:
    return f"{vector_store_id}/{file_id}/"


class SegmentStore:
    def __init__(self, store: Store):
        self._store = store

    @property
    def _container(self) -> ContainerClient:
        return self._store.container(CONTAINER)

    def write(self, vector_store_id: str, file_id: str, segment: Segment) -> str:
        """Store a new version of the file's segment; returns the version."""
        version = uuid.uuid4().hex  # new per write: overwrite=True only makes a retried upload idempotent
        self._container.upload_blob(_prefix(vector_store_id, file_id) + version, encode(segment), overwrite=True)
        return version

    def read(self, vector_store_id: str, file_id: str, version: str) -> Segment | None:
        try:
            return decode(self._container.download_blob(_prefix(vector_store_id, file_id) + version).readall())
        except ResourceNotFoundError:
            return None

    def delete(self, vector_store_id: str, file_id: str, keep: str | None = None) -> None:
        """Remove the file's segments (all versions but `keep`)."""
        self._delete_prefix(_prefix(vector_store_id, file_id), keep)

    def delete_version(self, vector_store_id: str, file_id: str, version: str) -> None:
        try:
            self._container.delete_blob(_prefix(vector_store_id, file_id) + version)
        except ResourceNotFoundError:
            pass

    def delete_store(self, vector_store_id: str) -> None:
        self._delete_prefix(f"{vector_store_id}/", None)

    def _delete_prefix(self, prefix: str, keep: str | None) -> None:
        container = self._container
        for blob in container.list_blobs(name_starts_with=prefix):
            if keep is None or not blob.name.endswith("/" + keep):
                try:
                    container.delete_blob(blob.name)
                except ResourceNotFoundError:
                    pass
