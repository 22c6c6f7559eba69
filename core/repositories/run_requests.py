"""Which thread and run a create-thread-and-run request chose, by the request's identity.

A create_and_run whose answer was lost is sent again by the client (the SDK marks the retry); it names
no thread, so nothing else would lead the retry to what the first attempt began. Before writing, the
first attempt records here the ids it is about to use (the thread's, the run's, an inline vector store's); the retry takes the same ids, so it either finds
the run stored or writes the very rows the first attempt would have (one of the two writes wins, and the
other finds the winner's run). One row per request identity (a digest of who sent what where), replaced
by the next identical request that is not a retry; rows older than the retry window are ignored, and the
run sweeper deletes them (`forget_before`).
"""

from __future__ import annotations

from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from core.ownership import owner_partition
from core.store import Store

TABLE = "runrequests"


@dataclass(frozen=True)
class Claimed:
    """The ids a create_and_run request chose, recorded before its first write so its retry takes the same ones."""

    thread_id: str
    run_id: str
    created_at: int
    vector_store_id: str | None = None  # the thread's inline vector store, if the request gives one


class RunRequests:
    def __init__(self, store: Store):
        self._store = store

    @property
    def table(self) -> TableClient:
        return self._store.table(TABLE)

    def claim(self, principal: str, key: str, chosen: Claimed) -> None:
        """Record the ids a request is about to write (an upsert: sent twice, the same row)."""
        self.table.upsert_entity({"PartitionKey": owner_partition(principal), "RowKey": key,
                                  "thread_id": chosen.thread_id, "run_id": chosen.run_id,
                                  "created_at": chosen.created_at, "vector_store_id": chosen.vector_store_id or ""},
                                 mode=UpdateMode.REPLACE)

    def claimed(self, principal: str, key: str, not_before: int) -> Claimed | None:
        """The ids an earlier attempt of this request recorded, if it was made at `not_before` or later."""
        try:
            entity = self.table.get_entity(owner_partition(principal), key)
        except ResourceNotFoundError:
            return None
        if int(entity.get("created_at") or 0) < not_before:
            return None
        return Claimed(entity["thread_id"], entity["run_id"], int(entity["created_at"]),
                       entity.get("vector_store_id") or None)

    def forget_before(self, cutoff: int) -> int:
        """Delete the rows of requests made before `cutoff` (their retry window is over); returns how many.
        Each delete is conditioned on the row as read: one replaced meanwhile by a new request is kept."""
        forgotten = 0
        for entity in self.table.query_entities("created_at lt @cutoff", parameters={"cutoff": cutoff},
                                                select=["PartitionKey", "RowKey", "created_at"]):
            try:
                self.table.delete_entity(entity["PartitionKey"], entity["RowKey"], etag=entity.metadata["etag"],
                                         match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                continue
            forgotten += 1
        return forgotten
