"""Threads: one partition per thread holding the thread row, its messages, runs and steps.

The thread row (`RowKey = "thread"`) is the partition's guard. Every write
into a thread touches it in the same atomic transaction, so a write can never
land in a thread that was deleted meanwhile (nothing half-written). Writes that
decide on the thread's state — above all "is a run active?", kept in the row's
`active_run_id` — go through `transact`, whose touch is ETag-conditioned, so the
decision holds at the moment of the write; the run engine claims the thread for
a run that way. A run's own later writes, decided by the run row's ETag, touch
the thread row only on its existing (`touch` without an ETag).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator, cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from core import ids
from core.codec import Codec
from core.collection import Operation
from core.errors import Conflict, NotFound
from core.store import Store
from core.thread_partition import TABLE, blob_scope
from core.transactions import EntityMissing, chunks, retry_on_conflict, submit

THREAD_ROW = "thread"


@dataclass(frozen=True)
class ThreadState:
    """The thread row as read: what `transact` decides on (is a run active?) and the ETag that makes it hold."""

    record: dict[str, Any]
    owner: str
    etag: str
    active_run_id: str | None

    @property
    def id(self) -> str:
        return cast(str, self.record["id"])


Build = Callable[[ThreadState], tuple[dict[str, Any], list[Operation]]]


class ThreadRepository:
    def __init__(self, store: Store):
        self._store = store
        self._codec = Codec(store)

    @property
    def table(self) -> TableClient:
        return self._store.table(TABLE)

    def state(self, principal: str, thread_id: str) -> ThreadState:
        """The thread as stored, or NotFound when it is absent or owned by someone else."""
        entity = None
        if ids.is_id("thread", thread_id):
            try:
                entity = self.table.get_entity(thread_id, THREAD_ROW)
            except ResourceNotFoundError:
                entity = None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("thread", thread_id)
        etag = entity.metadata["etag"]
        assert etag is not None  # an entity as read has its ETag
        return ThreadState(json.loads(entity["record"]), entity["owner"], etag, entity.get("active_run_id") or None)

    def get(self, principal: str, thread_id: str) -> dict[str, Any]:
        return self.state(principal, thread_id).record

    def create(self, principal: str, record: dict[str, Any],
               message_operations: list[Operation] | None = None) -> dict[str, Any]:
        """Insert the thread with its initial messages; the thread row is written last.

        When everything fits one transaction it is atomic; otherwise messages go
        first and the thread row last, so a failure leaves only rows that no
        request can reach (and they are cleaned up on the way out).
        """
        thread_id = record["id"]
        try:
            for batch in chunks([*(message_operations or []), self.create_op(principal, record)]):
                submit(self.table, batch)
        except BaseException:
            self._purge(thread_id)
            raise
        return record

    @staticmethod
    def create_op(principal: str, record: dict[str, Any], active_run_id: str = "") -> Operation:
        """The operation that inserts the thread row (claimed by a run from the start, if given)."""
        row = {"PartitionKey": record["id"], "RowKey": THREAD_ROW, "owner": principal,
               "created_at": record["created_at"], "record": json.dumps(record, separators=(",", ":"))}
        return "create", {**row, "active_run_id": active_run_id} if active_run_id else row

    def update(self, principal: str, thread_id: str,
               change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        updated: dict[str, Any] = {}

        def build(state: ThreadState) -> tuple[dict[str, Any], list[Operation]]:
            updated.clear()
            updated.update(change(state.record))
            return {"record": json.dumps(updated, separators=(",", ":"))}, []

        self.transact(principal, thread_id, build)
        return updated

    def transact(self, principal: str, thread_id: str, build: Build) -> list[dict[str, Any]]:
        """Atomically apply `build(state)` = (changes to the thread row, other operations).

        `build` may raise (e.g. an ApiError when a run is active); it is called
        again with fresh state if another writer touched the thread first, so it
        must not have side effects. Returns each operation's outcome as `submit` does: the thread
        row's first, then those of `build`'s operations.
        """
        def attempt() -> list[dict[str, Any]]:
            state = self.state(principal, thread_id)
            changes, operations = build(state)
            try:
                return submit(self.table, [self.touch(thread_id, changes, state.etag), *operations])
            except EntityMissing as error:
                if error.index == 0:
                    raise NotFound("thread", thread_id) from error
                raise

        # Only a race on the thread row is retried here; an ETag of the caller's own rows that no
        # longer holds is the caller's race, left to its retry.
        return retry_on_conflict(attempt, lambda: Conflict(f"Thread {thread_id} is being modified concurrently; "
                                                           "please retry."), retry_if=lambda error: error.index == 0)

    @staticmethod
    def touch(thread_id: str, changes: dict[str, Any], etag: str | None = None) -> Operation:
        """The operation that merges `changes` into the thread row: conditioned on `etag` when given,
        otherwise only on the row existing, which is enough for writers whose own rows' ETags decide."""
        condition = {"etag": etag, "match_condition": MatchConditions.IfNotModified} if etag else {}
        return "update", {**changes, "PartitionKey": thread_id, "RowKey": THREAD_ROW}, {"mode": UpdateMode.MERGE,
                                                                                       **condition}

    def with_active_runs(self) -> Iterator[tuple[str, str, str]]:
        """(principal, thread id, run id) of every thread holding an active run, across all partitions.

        A filtered scan of the table's thread rows, for the run sweeper, which runs every few minutes; a
        thread row names its active run from the run's creation until the run ends."""
        rows = self.table.query_entities("RowKey eq @row and active_run_id gt ''", parameters={"row": THREAD_ROW},
                                         select=["PartitionKey", "owner", "active_run_id"])
        for row in rows:
            yield row["owner"], row["PartitionKey"], row["active_run_id"]

    def delete(self, principal: str, thread_id: str) -> None:
        """Delete the thread and everything in its partition (messages, runs, steps, spills)."""
        self.state(principal, thread_id)
        try:
            self.table.delete_entity(thread_id, THREAD_ROW)
        except ResourceNotFoundError as error:
            raise NotFound("thread", thread_id) from error
        self._purge(thread_id)

    def _purge(self, thread_id: str) -> None:
        """Remove every row of the partition and every spilled blob; the thread row must be gone."""
        keys = self.table.query_entities("PartitionKey eq @pk", parameters={"pk": thread_id},
                                         select=["PartitionKey", "RowKey"])
        batch: list[tuple[str, dict[str, Any]]] = []
        for entity in keys:
            batch.append(("delete", {"PartitionKey": thread_id, "RowKey": entity["RowKey"]}))
            if len(batch) == 100:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)
        self._codec.discard_scope(blob_scope(thread_id))

    def _delete_batch(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            submit(self.table, batch)
        except EntityMissing:  # someone else is purging too: fall back to one by one
            for _, key in batch:
                self.table.delete_entity(key["PartitionKey"], key["RowKey"])
