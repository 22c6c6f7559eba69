"""Records partitioned by their owner: a principal's assistants, a principal's files."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from azure.data.tables import TableClient, TableEntity

from core import ids
from core.codec import Codec
from core.collection import Collection
from core.errors import Conflict, NotFound
from core.ownership import owner_partition
from core.pagination import Page, PageRequest
from core.store import Store
from core.transactions import EntityMissing, chunks, retry_on_conflict, submit


class OwnedRecords:
    def __init__(self, store: Store, table_name: str, kind: str, noun: str,
                 columns: Callable[[dict[str, Any]], dict[str, Any]] | None = None):
        """`columns` derives queryable table columns from a record; they are rewritten on every update."""
        self._store = store
        self._columns = columns or (lambda record: {})
        self._table_name = table_name
        self._collection = Collection(kind)
        self._codec = Codec(store)
        self.noun = noun  # also the id kind: "assistant", "file"

    @property
    def table(self) -> TableClient:
        return self._store.table(self._table_name)

    def _scope(self, partition: str) -> str:
        return f"{self._table_name}/{partition}"

    def insert(self, principal: str, record: dict[str, Any], columns: dict[str, Any] | None = None) -> dict[str, Any]:
        partition = owner_partition(principal)
        with self._codec.staged() as staged:
            properties = staged.encode(record, self._scope(partition))
            properties.update(self._columns(record), **(columns or {}), owner=principal, created_at=record["created_at"])
            submit(self.table, self._collection.create_ops(partition, record["id"], properties))
        return record

    def load(self, principal: str, object_id: str) -> tuple[dict[str, Any], TableEntity]:
        """The record and its entity (for ETag and columns); NotFound when absent or foreign."""
        entity = None
        if ids.is_id(self.noun, object_id):
            entity = self._collection.get(self.table, owner_partition(principal), object_id)
        if entity is None or entity.get("owner") != principal:
            raise NotFound(self.noun, object_id)
        return self._codec.decode(entity), entity

    def get(self, principal: str, object_id: str) -> dict[str, Any]:
        return self.load(principal, object_id)[0]

    def update(self, principal: str, object_id: str,
               change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `change` to the stored record under optimistic concurrency, retrying lost races."""
        return self.update_beside(principal, object_id, lambda record, entity: (change(record), {}))[0]

    def update_beside(self, principal: str, object_id: str,
                      change: Callable[[dict[str, Any], TableEntity], tuple[dict[str, Any], dict[str, Any]]]
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
        """As `update`, `change` also reading the record's entity and giving properties to write beside the
        record (those it does not give keep their values); returns the record and those properties."""
        partition = owner_partition(principal)

        def attempt() -> tuple[dict[str, Any], dict[str, Any]]:
            record, entity = self.load(principal, object_id)
            updated, beside = change(record, entity)
            with self._codec.staged() as staged:
                properties = staged.encode(updated, self._scope(partition))
                columns = {key: value for key, value in entity.items()
                           if key not in ("PartitionKey", "RowKey", "blob") and not _is_chunk(key)}
                etag = entity.metadata["etag"]
                assert etag is not None  # an entity as read has its ETag
                try:
                    submit(self.table, self._collection.replace_ops(
                        partition, object_id, {**columns, **self._columns(updated), **beside, **properties}, etag))
                except EntityMissing as error:  # deleted concurrently
                    raise NotFound(self.noun, object_id) from error
            self._codec.discard(entity.get("blob"))
            return updated, beside

        return retry_on_conflict(attempt, lambda: Conflict(f"The {self.noun} was modified concurrently; please retry."))

    def delete(self, principal: str, object_id: str) -> dict[str, Any]:
        """Remove the record; returns the entity it had (callers may own more resources)."""
        _, entity = self.load(principal, object_id)
        try:
            submit(self.table, self._collection.delete_ops(owner_partition(principal), object_id))
        except EntityMissing as error:  # deleted concurrently
            raise NotFound(self.noun, object_id) from error
        self._codec.discard(entity.get("blob"))
        return entity

    def delete_all(self, principal: str) -> None:
        """Remove every record of this kind in the principal's partition (spilled blobs too)."""
        partition = owner_partition(principal)
        operations, blobs = [], []
        for row in scan_columns(self, principal, ["blob"]):
            operations.extend(self._collection.delete_ops(partition, row["id"]))
            blobs.append(row.get("blob"))
        for batch in chunks(operations):
            submit(self.table, batch)
        for blob in blobs:
            self._codec.discard(blob)

    def list(self, principal: str, request: PageRequest) -> Page:
        return self.list_where(principal, request)

    def list_where(self, principal: str, request: PageRequest, where: str | None = None,
                    parameters: dict[str, Any] | None = None) -> Page:
        """A page of the principal's records, filtered by `where` (over the records' columns) when given."""
        rows, has_more = self._collection.page(self.table, owner_partition(principal), request, where, parameters)
        return Page(self._codec.decode_all(rows), has_more)

    def list_beside(self, principal: str, request: PageRequest, where: str | None = None,
                    parameters: dict[str, Any] | None = None
                    ) -> tuple[Sequence[tuple[dict[str, Any], TableEntity]], bool]:
        """As `list_where`, each record with its entity (for the properties kept beside it)."""
        rows, has_more = self._collection.page(self.table, owner_partition(principal), request, where, parameters)
        return list(zip(self._codec.decode_all(rows), rows)), has_more


def _is_chunk(name: str) -> bool:
    return len(name) > 1 and name[0] == "d" and name[1:].isdigit()


def scan_columns(records: OwnedRecords, principal: str, names: list[str]) -> list[dict[str, Any]]:
    """The `names` columns (and id) of every record of `records`' kind, oldest first, without decoding them."""
    prefix = f"{records._collection.kind}-a-"
    query = "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi"
    parameters = {"pk": owner_partition(principal), "lo": prefix, "hi": prefix[:-1] + "."}
    return list(records.table.query_entities(query, parameters=parameters, select=["id", *names]))
