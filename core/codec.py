"""Records as table-entity properties, spilling to Blob storage when they are too big.

A record (an OpenAI-shaped JSON object) is stored as UTF-8 JSON in binary
properties of at most 60,000 bytes each (Table storage allows 64 KiB per
property and 1 MiB per entity). Up to `INLINE_CHUNKS` chunks stay in the
entity; anything larger (a 256,000-character message, long instructions) goes
to a blob whose name is derived from the record's scope and id plus a fresh
version suffix, so replacing a record never overwrites a blob that a
concurrent reader or a losing writer still points to.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator, Sequence, cast

from azure.core.exceptions import ResourceNotFoundError

from core.store import Store

CHUNK_BYTES = 60_000
INLINE_CHUNKS = 4
CONTAINER = "records"
_CHUNK_NAMES = tuple(f"d{index}" for index in range(INLINE_CHUNKS))


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Codec:
    def __init__(self, store: Store):
        self._store = store

    def encode(self, record: dict[str, Any], scope: str) -> tuple[dict[str, Any], str | None]:
        """Entity properties holding `record`, and the name of the blob written, if any."""
        data = dumps(record)
        if len(data) <= CHUNK_BYTES * INLINE_CHUNKS:
            view = memoryview(data)
            return {
                name: view[start:start + CHUNK_BYTES].tobytes()
                for name, start in zip(_CHUNK_NAMES, range(0, len(data), CHUNK_BYTES))
            }, None
        blob_name = f"{scope}/{record['id']}/{uuid.uuid4().hex}.json"
        # The name is new for this write, so a blob already there is this write's own attempt whose
        # answer was lost (the SDK retries it): overwriting makes the retry idempotent.
        self._store.container(CONTAINER).upload_blob(blob_name, data, overwrite=True)
        return {"blob": blob_name}, blob_name

    def decode(self, entity: dict[str, Any]) -> dict[str, Any]:
        blob_name = entity.get("blob")
        if blob_name:
            return cast(dict[str, Any], json.loads(self._store.container(CONTAINER).download_blob(blob_name).readall()))
        return cast(dict[str, Any], json.loads(b"".join(bytes(entity[name]) for name in _CHUNK_NAMES if name in entity)))

    def decode_all(self, entities: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Decode a page of entities, fetching spilled records in parallel."""
        spilled = sum(1 for entity in entities if entity.get("blob"))
        if spilled < 2:
            return [self.decode(entity) for entity in entities]
        with ThreadPoolExecutor(max_workers=min(8, spilled)) as pool:
            return list(pool.map(self.decode, entities))

    @contextmanager
    def staged(self) -> Iterator["Staging"]:
        """One write attempt's spills: if the block raises (a lost race, a refused change, a crash of
        the transaction), every blob it spilled is removed, so a write that does not commit leaves
        nothing behind."""
        staging = Staging(self)
        try:
            yield staging
        except BaseException:
            staging.abandon()
            raise

    def discard(self, blob_name: str | None) -> None:
        """Best-effort removal of a spilled record that is no longer referenced."""
        if blob_name:
            try:
                self._store.container(CONTAINER).delete_blob(blob_name, delete_snapshots="include")
            except ResourceNotFoundError:
                pass

    def discard_scope(self, scope: str) -> None:
        """Remove every spilled record under `scope` (e.g. everything of a deleted thread)."""
        container = self._store.container(CONTAINER)
        for blob in container.list_blobs(name_starts_with=scope + "/"):
            container.delete_blob(blob.name, delete_snapshots="include")


class Staging:
    """The blobs spilled while preparing one write; see `Codec.staged`."""

    def __init__(self, codec: Codec):
        self._codec = codec
        self._blobs: list[str] = []

    def encode(self, record: dict[str, Any], scope: str) -> dict[str, Any]:
        properties, blob = self._codec.encode(record, scope)
        if blob:
            self._blobs.append(blob)
        return properties

    def abandon(self) -> None:
        for name in self._blobs:
            self._codec.discard(name)
        self._blobs.clear()
