"""Runs and run steps, stored in their thread's partition (see core.repositories.threads).

Creating a run claims the thread (`active_run_id` on the thread row) in the same
transaction that inserts the run and its `additional_messages`, so two
concurrent creates cannot both win. Every later change is an ETag-conditioned
rewrite of the run row, optionally together with messages and steps and the
release of the thread: what a model turn produces lands atomically or not at all.

The engine's bookkeeping (core.run_bookkeeping) is its own property of the run's
and each step's row: it changes atomically with them and is never part of the
public record. Records too large for a row spill to Blob storage; the spills of a
write that does not commit (a lost race, a refused change) are removed with it.

Every write appends the run events it shows to the run's event log in the same
transaction, so a client streaming the run sees an event exactly when the change it
describes is stored. Those events are derived from the change itself
(core.run_events.changes): a new run's creation, a streamed turn's new steps and
message (beyond what its stream showed, which the change says: `RunChange.turn`), a
replaced step's new status, the run's new status (last); a change carries by hand only
the events of what is not stored as a record of its own (a streamed message closed
as its run ended). After every write this process's readers of the run are woken
(core.run_events.wakeups).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from azure.core import MatchConditions
from azure.data.tables import TableClient, TableEntity

from core import ids
from core.codec import Codec, Staging
from core.collection import Collection, Operation
from core.errors import Conflict, NotFound, ThreadBusy, TooLargeForOneWrite
from core.pagination import Page, PageRequest
from core.repositories.fresh_runs import FreshRuns
from core.repositories.messages import MESSAGES, MessageRepository
from core.repositories.threads import ThreadRepository, ThreadState
from core.run_bookkeeping import RunBookkeeping, StepBookkeeping
from core.run_events import wakeups
from core.run_events.changes import TurnShown, change_events, run_opened
from core.run_events.log import EventLog, Head, event_rows
from core.run_events.payloads import Event
from core.store import Store
from core.thread_partition import blob_scope
from core.transactions import MAX_OPERATIONS, EntityMissing, PreconditionFailed, chunks, retry_on_conflict, submit

RUNS = Collection("run")
Steps = Sequence[tuple[dict[str, Any], StepBookkeeping]]  # new steps: (record, bookkeeping)
BOOKS = "books"


class _TooLarge(Exception):
    """What was to be written together does not fit one transaction."""


def steps_of(run_id: str) -> Collection:
    """Each run's steps are their own contiguous key range in the thread partition."""
    return Collection(f"step.{ids.body(run_id)}")


@dataclass(frozen=True)
class StoredRun:
    """A run as read or as `update` wrote it, with what the next rewrite needs: its ETag, the spill it supersedes."""

    record: dict[str, Any]
    books: RunBookkeeping
    etag: str | None  # as read, or as written by `update`
    blob: str | None
    head: Head | None = None  # the event log's head after an `update` that appended events


@dataclass(frozen=True)
class StoredStep:
    """A run step as read, with what a later rewrite of it needs: its ETag, the spill it supersedes."""

    record: dict[str, Any]
    books: StepBookkeeping
    etag: str | None  # None for what a write returns
    blob: str | None


@dataclass
class RunChange:
    """What one `RunRepository.update` writes: the run (and its bookkeeping) and rows that go with it.

    Steps in `replace_steps` carry the ETag they were read with, so a concurrent change to one
    fails the whole write (and it is retried from a fresh read)."""

    record: dict[str, Any]
    books: RunBookkeeping | None = None  # None: unchanged
    new_messages: list[dict[str, Any]] = field(default_factory=list)
    new_steps: list[tuple[dict[str, Any], StepBookkeeping]] = field(default_factory=list)
    replace_steps: list[tuple[StoredStep, dict[str, Any], StepBookkeeping]] = field(default_factory=list)  # (as read, new)
    release_thread: bool = False
    # Shown to streams with the change, before what is derived from it (core.run_events.changes): the
    # events of what is not a stored record's own (a streamed message closed as its run ended).
    events: list[Event] = field(default_factory=list)
    # What the streamed turn whose records this change stores showed already (its new steps and message
    # show the rest); None: the new steps and messages are history, not news, and show nothing.
    turn: TurnShown | None = None
    # The claim of the event log written with the change, from the head's current one (core.run_events.log).
    claim: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def touches_thread(self) -> bool:
        return bool(self.new_messages or self.new_steps or self.replace_steps or self.release_thread)


def shown(before: dict[str, Any], change: RunChange) -> list[Event]:
    """The events a change of the run `before` shows: its own, then those derived from it (a streamed
    turn's new steps and message, its replaced steps' status moves, then the run's new status)."""
    return change_events(before, change.record, [(read.record, step) for read, step, _ in change.replace_steps],
                         change.events, new_steps=[step for step, _ in change.new_steps],
                         new_messages=change.new_messages, turn=change.turn)


class RunRepository:
    def __init__(self, store: Store, threads: ThreadRepository | None = None):
        self._codec = Codec(store)
        self.threads = threads or ThreadRepository(store)
        self.messages = MessageRepository(store, self.threads)
        self.events = EventLog(store)
        self.fresh: FreshRuns[StoredRun] = FreshRuns()  # runs created here, as stored, for their first turn

    @property
    def table(self) -> TableClient:
        return self.threads.table

    # -- runs ------------------------------------------------------------------

    def _run_properties(self, principal: str, record: dict[str, Any], books: RunBookkeeping,
                        staged: Staging) -> dict[str, Any]:
        properties = staged.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"], status=record["status"],
                          **{BOOKS: books.dump()})
        return properties

    def create(self, principal: str, record: dict[str, Any], books: RunBookkeeping,
               additional_messages: list[dict[str, Any]], thread: dict[str, Any] | None = None,
               steps: Steps = ()) -> dict[str, Any]:
        """Insert a queued run (and its additional messages, and `steps` it starts with) and claim the
        thread for it; its log opens with the run created and queued, after `thread.created` when
        `thread` (its thread) was made for it."""
        thread_id, run_id = record["thread_id"], record["id"]

        def build(state: ThreadState) -> tuple[dict[str, Any], list[Operation]]:
            if state.active_run_id:
                raise ThreadBusy(f"Thread {thread_id} already has an active run {state.active_run_id}.", thread_id,
                                 state.active_run_id)
            return {"active_run_id": run_id}, operations

        with self._codec.staged() as staged:
            properties = self._run_properties(principal, record, books, staged)
            operations = RUNS.create_ops(thread_id, run_id, properties)
            operations += self.messages.insert_all_ops(principal, additional_messages, staged)
            operations += self._step_ops(principal, steps, staged)
            log, _, head = self.events.operations(thread_id, run_id, Head(), run_opened(record, thread), staged=staged)
            head_at, operations = len(operations), operations + log  # the head's row is the log's first
            if len(operations) >= MAX_OPERATIONS or len(chunks(operations)) > 1:  # the thread's row is one more
                raise TooLargeForOneWrite(f"{len(additional_messages)} messages are too many to add with one run: "
                                          "add some to the thread first, then start the run with the rest.",
                                          param="additional_messages")
            written = self.threads.transact(principal, thread_id, build)[1:]  # after the thread row's
        self._keep_fresh(principal, record, books, properties, head, written[0]["etag"], written[head_at]["etag"])
        wakeups.wake(thread_id, run_id, wakeups.Committed(record))
        return record

    def create_with_thread(self, principal: str, thread: dict[str, Any], thread_messages: list[dict[str, Any]],
                           record: dict[str, Any], books: RunBookkeeping, *, show_thread: bool = True,
                           steps: Steps = ()) -> dict[str, Any]:
        """Insert a new thread with its messages and a queued run that holds it, in one transaction
        (nobody can see the thread before its run); when that does not fit one transaction, the
        thread is created first and the run then, as two requests would. The run's log opens with
        `thread.created` unless not `show_thread` (a response's thread is not on its wire)."""
        thread_id, run_id = thread["id"], record["id"]
        shown_thread = thread if show_thread else None
        try:
            with self._codec.staged() as staged:
                properties = self._run_properties(principal, record, books, staged)
                operations = RUNS.create_ops(thread_id, run_id, properties)
                operations += self.messages.insert_all_ops(principal, thread_messages, staged)
                operations += self._step_ops(principal, steps, staged)
                log, _, head = self.events.operations(thread_id, run_id, Head(), run_opened(record, shown_thread),
                                                      staged=staged)
                head_at, operations = len(operations), operations + log  # the head's row is the log's first
                operations.append(self.threads.create_op(principal, thread, active_run_id=run_id))
                if len(chunks(operations)) > 1:
                    raise _TooLarge  # leaves nothing behind: the staging removes what it spilled
                written = submit(self.table, operations)
        except _TooLarge:
            with self._codec.staged() as staged:
                self.threads.create(principal, thread, self.messages.insert_all_ops(principal, thread_messages, staged))
            return self.create(principal, record, books, [], shown_thread, steps)
        self._keep_fresh(principal, record, books, properties, head, written[0]["etag"], written[head_at]["etag"])
        wakeups.wake(thread_id, run_id, wakeups.Committed(record))
        return record

    def _keep_fresh(self, principal: str, record: dict[str, Any], books: RunBookkeeping, properties: dict[str, Any],
                    head: Head, run_etag: str, head_etag: str) -> None:
        """Keep the run as its create stored it, for its first turn (core.repositories.fresh_runs)."""
        head.etag = head_etag
        self.fresh.keep(principal, record["thread_id"], record["id"],
                        StoredRun(record, books, run_etag, properties.get("blob"), head))

    def load(self, principal: str, thread_id: str, run_id: str) -> StoredRun:
        """One read: the run row carries its owner, and a run exists only inside its live thread."""
        entity = RUNS.get(self.table, thread_id, run_id) if ids.is_id("run", run_id) and ids.is_id(
            "thread", thread_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("run", run_id)
        return StoredRun(self._codec.decode(entity), RunBookkeeping.load(entity.get(BOOKS)),
                         entity.metadata["etag"], entity.get("blob"))

    def get(self, principal: str, thread_id: str, run_id: str) -> dict[str, Any]:
        return self.load(principal, thread_id, run_id).record

    def runs_of_owned_thread(self, thread_id: str, order: str, after: str | None = None,
                             page_size: int = 100) -> Iterator[StoredRun]:
        """The runs of a thread whose ownership the caller has established, in `order`, after the id
        `after` (any id: its time decides), with their bookkeeping; read lazily, `page_size` at a time."""
        for entity in RUNS.scan(self.table, thread_id, order, page_size, after):
            yield StoredRun(self._codec.decode(entity), RunBookkeeping.load(entity.get(BOOKS)),
                            entity.metadata["etag"], entity.get("blob"))

    def list(self, principal: str, thread_id: str, request: PageRequest) -> Page:
        self.threads.state(principal, thread_id)
        rows, has_more = RUNS.page(self.table, thread_id, request)
        return Page(self._codec.decode_all(rows), has_more)

    def update(self, principal: str, thread_id: str, run_id: str, change: Callable[[StoredRun], RunChange], *,
               loaded: StoredRun | None = None, head: Head | None = None) -> StoredRun:
        """Apply `change(stored run)` atomically with the rows it adds; retried on a concurrent write.

        `change` must be free of side effects (it runs again after a lost race) and may raise to
        refuse. `loaded` (from `load`, or what an earlier `update` returned) saves the first read,
        `head` (the run's event log head as last written) the head's; if either is stale its ETag
        check fails and the next attempt reads both afresh. Returns the run as written, with its
        new ETag and, when the change showed events, the log's new head.
        """
        known = [(loaded, head)]
        self.fresh.drop(thread_id, run_id)  # what the create kept no longer is the run once this writes

        def attempt() -> StoredRun:
            first, first_head = known.pop() if known else (None, None)
            current = first if first is not None and first.etag else self.load(principal, thread_id, run_id)
            outcome = change(current)
            books = outcome.books if outcome.books is not None else current.books
            with self._codec.staged() as staged:
                properties = self._run_properties(principal, outcome.record, books, staged)
                # The thread row is touched without an ETag: the run's own ETag decides. While the run is
                # active its thread's active_run_id names it (set by create, cleared only by the run's
                # terminal write), and a thread deleted meanwhile fails the touch (EntityMissing).
                operations = [self.threads.touch(thread_id, {"active_run_id": ""} if outcome.release_thread else {})] \
                    if outcome.touches_thread else []
                run_at = len(operations)
                assert current.etag is not None  # a run as read (or as `update` wrote it) has its ETag
                operations += RUNS.replace_ops(thread_id, run_id, properties, current.etag)
                operations += self._row_operations(principal, outcome, staged)
                events, head_at, new_head = shown(current.record, outcome), len(operations), None
                if events or outcome.claim is not None:
                    log_head = first_head if first_head is not None and first_head.etag else \
                        self.events.head(thread_id, run_id)
                    claim = outcome.claim(log_head.claim) if outcome.claim is not None else None
                    appended, _, new_head = self.events.operations(thread_id, run_id, log_head, events, claim=claim,
                                                                   staged=staged)
                    operations += appended
                try:
                    written = submit(self.table, operations)
                except EntityMissing as error:
                    raise NotFound("run", run_id) from error
            for superseded in (current.blob, *(read.blob for read, _, _ in outcome.replace_steps)):
                self._codec.discard(superseded)
            if new_head is not None:
                new_head.etag = written[head_at]["etag"]
            wakeups.wake(thread_id, run_id, wakeups.Committed(
                outcome.record, current.books, books, outcome.new_messages, outcome.new_steps))
            return StoredRun(outcome.record, books, written[run_at]["etag"], properties.get("blob"), new_head)

        return retry_on_conflict(attempt, lambda: Conflict(f"Run {run_id} was modified concurrently; please retry."))

    def withdraw(self, principal: str, stored: StoredRun, message_ids: Sequence[str]) -> None:
        """Remove a run that never started as if it had never been created: its steps, its event log, the
        input messages it was created with (`message_ids`), and its hold on the thread, in one transaction
        (the rows `create` inserted in one). Raises Conflict when the run changed since `stored` was read."""
        record, etag = stored.record, stored.etag
        thread_id, run_id = record["thread_id"], record["id"]
        self.fresh.drop(thread_id, run_id)
        assert etag is not None  # a run as read
        messages = [entity for entity in (MESSAGES.get(self.table, thread_id, message_id) for message_id in message_ids)
                    if entity is not None]
        steps = self.all_steps(thread_id, run_id)
        events = event_rows(self.table, thread_id, run_id)
        rows: builtins.list[Operation] = [operation for entity in messages for operation in MESSAGES.delete_ops(
            thread_id, entity["id"])]
        rows += [operation for step in steps for operation in steps_of(run_id).delete_ops(thread_id, step.record["id"])]
        rows += [("delete", {"PartitionKey": thread_id, "RowKey": entity["RowKey"]}) for entity in events]
        ascending, descending = RUNS.delete_ops(thread_id, run_id)
        last: builtins.list[Operation] = [self.threads.touch(thread_id, {"active_run_id": ""}), descending,
                                          (*ascending, {"etag": etag, "match_condition": MatchConditions.IfNotModified})]
        try:
            submit(self.table, rows + last)
        except PreconditionFailed as error:
            raise Conflict(f"Run {run_id} was modified concurrently; please retry.") from error
        except EntityMissing as error:  # its thread was deleted meanwhile
            raise NotFound("run", run_id) from error
        for blob in (stored.blob, *(step.blob for step in steps), *(entity.get("blob") for entity in messages),
                     *(entity.get("blob") for entity in events)):
            self._codec.discard(blob)
        wakeups.wake(thread_id, run_id, wakeups.Committed(record, gone=True))

    # (`builtins.list` below: inside the class, `list` is the method above)
    def _row_operations(self, principal: str, change: RunChange, staged: Staging) -> builtins.list[Operation]:
        operations = self.messages.insert_all_ops(principal, change.new_messages, staged)
        operations += self._step_ops(principal, change.new_steps, staged)
        for read, step, books in change.replace_steps:
            assert read.etag is not None  # replaced steps are as read, with their ETag
            operations += steps_of(step["run_id"]).replace_ops(
                step["thread_id"], step["id"], self._step_properties(principal, step, books, staged), read.etag)
        return operations

    # -- steps -----------------------------------------------------------------

    def _step_ops(self, principal: str, steps: Steps, staged: Staging) -> builtins.list[Operation]:
        operations: builtins.list[Operation] = []
        for step, books in steps:
            operations += steps_of(step["run_id"]).create_ops(
                step["thread_id"], step["id"], self._step_properties(principal, step, books, staged))
        return operations

    def _step_properties(self, principal: str, record: dict[str, Any], books: StepBookkeeping,
                         staged: Staging) -> dict[str, Any]:
        properties = staged.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"], **{BOOKS: books.dump()})
        return properties

    def update_step(self, principal: str, thread_id: str, run_id: str, step_id: str,
                    change: Callable[[StoredStep], tuple[dict[str, Any], StepBookkeeping]],
                    events: Callable[[dict[str, Any], dict[str, Any]], builtins.list[Event]] | None = None) -> StoredStep:
        """Apply `change` to a step under its ETag (parallel tool calls each add their output);
        `events(before, after)` names the run events the change shows, appended in the same transaction."""
        def attempt() -> StoredStep:
            current = self.load_step(principal, thread_id, run_id, step_id)
            record, books = change(current)
            made = events(current.record, record) if events else []
            assert current.etag is not None  # as read
            with self._codec.staged() as staged:
                operations = steps_of(run_id).replace_ops(
                    thread_id, step_id, self._step_properties(principal, record, books, staged), current.etag)
                if made:
                    operations += self.events.operations(thread_id, run_id, self.events.head(thread_id, run_id),
                                                         made, staged=staged)[0]
                try:  # the step's ETag decides; the touch only fails when the thread was deleted
                    submit(self.table, [self.threads.touch(thread_id, {}), *operations])
                except EntityMissing as error:
                    raise NotFound("run step", step_id) from error
            self._codec.discard(current.blob)
            if made:
                wakeups.wake(thread_id, run_id)
            return StoredStep(record, books, None, None)

        return retry_on_conflict(attempt, lambda: Conflict(f"Run step {step_id} was modified concurrently; "
                                                           "please retry."))

    def load_step(self, principal: str, thread_id: str, run_id: str, step_id: str) -> StoredStep:
        self.load(principal, thread_id, run_id)
        return self.step_of_held_run(principal, thread_id, run_id, step_id)

    def step_of_held_run(self, principal: str, thread_id: str, run_id: str, step_id: str) -> StoredStep:
        """A step of a run the caller has already loaded (load_step without reading the run again)."""
        entity = steps_of(run_id).get(self.table, thread_id, step_id) if ids.is_id("step", step_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("run step", step_id)
        return self._stored_step(entity)

    def _stored_step(self, entity: TableEntity) -> StoredStep:
        return StoredStep(self._codec.decode(entity), StepBookkeeping.load(entity.get(BOOKS)),
                          entity.metadata["etag"], entity.get("blob"))

    def list_steps(self, principal: str, thread_id: str, run_id: str, request: PageRequest) -> Page:
        self.load(principal, thread_id, run_id)
        rows, has_more = steps_of(run_id).page(self.table, thread_id, request)
        return Page(self._codec.decode_all(rows), has_more)

    def steps_of_owned_run(self, thread_id: str, run_id: str, order: str, after: str | None = None,
                           page_size: int = 100) -> Iterator[StoredStep]:
        """A held run's steps in `order` after the step `after`, read lazily, `page_size` at a time."""
        for entity in steps_of(run_id).scan(self.table, thread_id, order, page_size, after):
            yield self._stored_step(entity)

    def all_steps(self, thread_id: str, run_id: str) -> builtins.list[StoredStep]:
        """Every step of a run the caller already holds, oldest first, with bookkeeping (the run
        engine rebuilds a turn's context from them)."""
        rows = steps_of(run_id).scan(self.table, thread_id)
        return [self._stored_step(entity) for entity in rows]
