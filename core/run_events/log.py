"""The durable run event log: a run's OpenAI `thread.*` events, numbered 1, 2, 3 … in Table storage.

Layout. Events live in the threads table, in the run's thread partition, so they
are deleted with the thread and can share an entity-group transaction with the
run change they describe:

    evt.<run id body>.<seq, 10 digits>   one append: its events `first` … seq, names and payloads
                                         (inline, or spilled to a blob)
    evt.<run id body>.head               the head: `next` (the number the next event gets), the name
                                         of the last event, and the claim of the turn that streams

A row is keyed by the number of its last event, so a reader tails with one range
query — RowKey between `evt.<run>.<after>` and `evt.<run>.:` (":" sorts after the
digits and before "head") — and skips the events of the first row it already had.
(Logs written before appends shared a row hold one event per row, named `event`.)

Numbering. Every append is one transaction that rewrites the head under its ETag
(advancing `next`) and inserts the append's row. Two writers that read the same
head cannot both commit: the loser's ETag check fails and it reads again. So
numbers are gap-free and ordered by commit whoever writes — an HTTP handler,
parallel tool-call activities, the model turn. An event describing a state change
is appended inside the transaction of that change (`operations`, called from
`RunRepository.update`): the event exists if and only if the change does, and a
retried activity that finds its change already stored appends nothing again.

Deltas are written by the turn's batching writer (core/run_events/turn_stream.py).

Wake-ups. After each commit the writer wakes this process's readers of the run
(core.run_events.wakeups); readers elsewhere find the events on their next poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence, cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from core import ids
from core.codec import Codec, Staging
from core.collection import Operation
from core.errors import Conflict
from core.run_events import wakeups
from core.run_events.payloads import Event
from core.store import Store
from core.thread_partition import TABLE, blob_scope
from core.transactions import MAX_OPERATIONS, retry_on_conflict, submit

SEQ_DIGITS = 10
# One transaction holds at most 100 operations: the head plus this many events.
MAX_EVENTS_PER_APPEND = MAX_OPERATIONS - 1



def _prefix(run_id: str) -> str:
    return f"evt.{ids.body(run_id)}."


def event_key(run_id: str, seq: int) -> str:
    return f"{_prefix(run_id)}{seq:0{SEQ_DIGITS}d}"


def head_key(run_id: str) -> str:
    return _prefix(run_id) + "head"


def event_rows(table: TableClient, thread_id: str, run_id: str) -> list[Any]:
    """The keys (and spills) of every row of the run's log, its head included (to remove them)."""
    prefix = _prefix(run_id)
    return list(table.query_entities("PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
                                     parameters={"pk": thread_id, "low": prefix, "high": prefix[:-1] + "/"},
                                     select=["RowKey", "blob"]))


@dataclass(frozen=True)
class StoredEvent:
    """One event of a run's log as a reader gets it; its number is the SSE id a stream resumes after."""

    seq: int
    name: str
    data: dict[str, Any]


@dataclass
class Head:
    """The log's head as read (or as this writer last wrote it); `etag` None: not written yet."""

    next: int = 1
    last: str = ""
    claim: dict[str, Any] = field(default_factory=dict)
    etag: str | None = None

    @property
    def count(self) -> int:
        return self.next - 1


def submit_for_etag(table: TableClient, operations: Sequence[Operation]) -> str:
    """Commit a transaction whose first operation writes the head; returns the head's new ETag.

    A head another writer created or changed first is a PreconditionFailed either way.
    """
    return cast(str, submit(table, operations)[0]["etag"])


class EventLog:
    def __init__(self, store: Store):
        self._store = store
        self._codec = Codec(store)

    @property
    def table(self) -> TableClient:
        return self._store.table(TABLE)

    def head(self, thread_id: str, run_id: str) -> Head:
        try:
            entity = self.table.get_entity(thread_id, head_key(run_id))
        except ResourceNotFoundError:
            return Head()
        return Head(next=int(entity["next"]), last=entity.get("last") or "",
                    claim=json.loads(entity.get("claim") or "{}"), etag=entity.metadata["etag"])

    def operations(self, thread_id: str, run_id: str, head: Head, events: list[Event],
                   claim: dict[str, Any] | None = None,
                   staged: Staging | None = None) -> tuple[list[Operation], list[str], Head]:
        """The transaction operations appending `events` after `head`, the blobs they spilled, and the new head.

        Commit them in one transaction; if `head` is stale the head's ETag check fails
        the whole transaction and the caller reads the head again. With `staged` (a write's
        spill staging, see Codec.staged) spilled events go with that write's own spills.
        """
        if len(events) > MAX_EVENTS_PER_APPEND:
            raise ValueError(f"at most {MAX_EVENTS_PER_APPEND} events per append")
        operations, blobs = [], []
        if events:
            first, last = head.next, head.next + len(events) - 1
            record = {"id": f"{run_id}.{first}-{last}", "events": [[name, data] for name, data in events]}
            if staged is not None:
                properties = staged.encode(record, blob_scope(thread_id))
            else:
                properties, blob = self._codec.encode(record, blob_scope(thread_id))
                blobs += [blob] if blob else []
            operations.append(("create", {"PartitionKey": thread_id, "RowKey": event_key(run_id, last),
                                          "first": first, **properties}))
        new_head = Head(next=head.next + len(events), last=events[-1][0] if events else head.last,
                        claim=head.claim if claim is None else claim)
        row = {"PartitionKey": thread_id, "RowKey": head_key(run_id), "next": new_head.next, "last": new_head.last,
               "claim": json.dumps(new_head.claim, separators=(",", ":"))}
        head_operation: tuple[object, ...]
        if head.etag is None:
            head_operation = ("create", row)
        else:
            head_operation = ("update", row, {"mode": UpdateMode.REPLACE, "etag": head.etag,
                                              "match_condition": MatchConditions.IfNotModified})
        return [head_operation, *operations], blobs, new_head

    def discard(self, blobs: list[str]) -> None:
        for name in blobs:
            self._codec.discard(name)

    def append(self, thread_id: str, run_id: str, events: list[Event]) -> Head:
        """Append events on their own (not tied to another change); retried when another writer wins."""
        def attempt() -> Head:
            with self._codec.staged() as staged:
                operations, _, new_head = self.operations(thread_id, run_id, self.head(thread_id, run_id), events,
                                                          staged=staged)
                submit_for_etag(self.table, operations)
            return new_head

        new_head = retry_on_conflict(attempt, lambda: Conflict(f"The event log of {run_id} is being written too "
                                                               "busily; please retry."))
        wakeups.wake(thread_id, run_id)
        return new_head

    def read(self, thread_id: str, run_id: str, after: int, limit: int = 200) -> list[StoredEvent]:
        """Up to `limit` events numbered after `after`, oldest first."""
        query = "PartitionKey eq @pk and RowKey gt @lo and RowKey lt @hi"
        parameters = {"pk": thread_id, "lo": event_key(run_id, max(after, 0)), "hi": _prefix(run_id) + ":"}
        found = []
        for entity in self.table.query_entities(query, parameters=parameters, results_per_page=limit):
            record = self._codec.decode(entity)
            if "event" in entity:  # a row of one event, from before appends shared a row
                found.append(StoredEvent(int(entity["RowKey"][-SEQ_DIGITS:]), entity["event"], record["data"]))
            else:
                found += [StoredEvent(seq, name, data) for seq, (name, data) in
                          enumerate(record["events"], start=int(entity["first"])) if seq > after]
            if len(found) >= limit:
                break
        return found[:limit]
