"""Runs and run steps, stored in their thread's partition (see core.repositories.threads).

Creating a run claims the thread (`active_run_id` on the thread row) in the same
transaction that inserts the run and its `additional_messages`, so two
concurrent creates cannot both win. Every later change is an ETag-conditioned
rewrite of the run row, optionally together with messages and steps and the
release of the thread: what a model turn produces lands atomically or not at all.

A change may carry run events (core.run_events): they are appended to the run's
event log in the same transaction, so a client streaming the run sees an event
exactly when the change it describes is stored.

A record's `_engine` key holds the run engine's bookkeeping (which turns are
done, the current requires_action round); `public()` strips it for the wire.
"""

from __future__ import annotations

import copy
from typing import Callable

from core import ids
from core.codec import Codec
from core.collection import Collection
from core.errors import Conflict, InvalidRequest, NotFound
from core.pagination import Page, PageRequest
from core.repositories.messages import MessageRepository
from core.repositories.threads import ThreadRepository, ThreadState, blob_scope
from core.run_events import wakeups
from core.run_events.log import EventLog, Head
from core.run_events.payloads import Event
from core.store import Store
from core.transactions import EntityMissing, PreconditionFailed, submit

RUNS = Collection("run")
ACTIVE_STATUSES = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
UPDATE_ATTEMPTS = 10


def steps_of(run_id: str) -> Collection:
    """Each run's steps are their own contiguous key range in the thread partition."""
    return Collection(f"step.{ids.body(run_id)}")


def public(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "_engine"}


class RunRepository:
    def __init__(self, store: Store, threads: ThreadRepository | None = None):
        self._codec = Codec(store)
        self.threads = threads or ThreadRepository(store)
        self.messages = MessageRepository(store, self.threads)
        self.events = EventLog(store)

    @property
    def table(self):
        return self.threads.table

    # -- runs ------------------------------------------------------------------

    def _run_properties(self, principal: str, record: dict) -> tuple[dict, str | None]:
        properties, blob = self._codec.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"], status=record["status"])
        return properties, blob

    def create(self, principal: str, record: dict, additional_messages: list[dict],
               events: list[Event] = ()) -> dict:
        """Insert a queued run (and its additional messages) and claim the thread for it; `events` start its log."""
        thread_id, run_id = record["thread_id"], record["id"]
        properties, blob = self._run_properties(principal, record)
        operations = RUNS.create_ops(thread_id, run_id, properties)
        event_operations, blobs, _ = self.events.operations(thread_id, run_id, Head(), list(events))
        operations += event_operations
        blobs.append(blob)
        for message in additional_messages:
            message_operations, message_blob = self.messages.prepare(principal, message)
            operations += message_operations
            blobs.append(message_blob)

        def build(state: ThreadState) -> tuple[dict, list]:
            if state.active_run_id:
                raise InvalidRequest(f"Thread {thread_id} already has an active run {state.active_run_id}.")
            return {"active_run_id": run_id}, operations

        try:
            self.threads.transact(principal, thread_id, build)
        except BaseException:
            for name in blobs:
                self._codec.discard(name)
            raise
        wakeups.wake(thread_id, run_id)
        return record

    def load(self, principal: str, thread_id: str, run_id: str) -> tuple[dict, dict]:
        """One read: the run row carries its owner, and a run exists only inside its live thread."""
        entity = RUNS.get(self.table, thread_id, run_id) if ids.is_id("run", run_id) and ids.is_id(
            "thread", thread_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("run", run_id)
        return self._codec.decode(entity), entity

    def get(self, principal: str, thread_id: str, run_id: str) -> dict:
        return self.load(principal, thread_id, run_id)[0]

    def list(self, principal: str, thread_id: str, request: PageRequest) -> Page:
        self.threads.state(principal, thread_id)
        rows, has_more = RUNS.page(self.table, thread_id, request)
        return Page(self._codec.decode_all(rows), has_more)

    def update(self, principal: str, thread_id: str, run_id: str, change: Callable[[dict], "RunChange"], *,
               loaded: tuple[dict, dict] | None = None) -> dict:
        """Apply `change(record)` atomically with the rows it adds; retried on a concurrent write.

        `change` must be free of side effects (it may run again) and may raise to refuse.
        `loaded` (a record and entity from `load`) saves the first read; if it is stale the
        ETag check fails and the run is read afresh.
        """
        for attempt in range(UPDATE_ATTEMPTS):
            record, entity = loaded if attempt == 0 and loaded else self.load(principal, thread_id, run_id)
            outcome = change(record)
            properties, blob = self._run_properties(principal, outcome.record)
            operations = RUNS.replace_ops(thread_id, run_id, properties, entity.metadata["etag"])
            operations += outcome.operations
            event_blobs = []
            if outcome.events:
                event_operations, event_blobs, _ = self.events.operations(
                    thread_id, run_id, self.events.head(thread_id, run_id), outcome.events)
                operations += event_operations

            def build(state: ThreadState) -> tuple[dict, list]:
                release = outcome.release_thread and state.active_run_id == run_id
                return ({"active_run_id": ""} if release else {}), operations

            try:
                if outcome.operations or outcome.release_thread:
                    self.threads.transact(principal, thread_id, build)
                else:  # only the run row changes: its ETag is guard enough (a deleted thread takes its runs)
                    submit(self.table, operations)
            except PreconditionFailed:
                self._codec.discard(blob)
                self.events.discard(event_blobs)
                continue
            except EntityMissing as error:
                self._codec.discard(blob)
                self.events.discard(event_blobs)
                raise NotFound("run", run_id) from error
            except BaseException:
                self._codec.discard(blob)
                self.events.discard(event_blobs)
                for name in outcome.blobs:
                    self._codec.discard(name)
                raise
            self._codec.discard(entity.get("blob"))
            if outcome.events:
                wakeups.wake(thread_id, run_id)
            return outcome.record
        raise Conflict(f"Run {run_id} was modified concurrently; please retry.")

    # -- steps -----------------------------------------------------------------

    def step_operations(self, principal: str, record: dict, etag: str | None = None) -> tuple[list, str | None]:
        """Insert (no etag) or conditionally replace a step, as operations for `update`."""
        properties, blob = self._codec.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"])
        steps = steps_of(record["run_id"])
        if etag is None:
            return steps.create_ops(record["thread_id"], record["id"], properties), blob
        return steps.replace_ops(record["thread_id"], record["id"], properties, etag), blob

    def update_step(self, principal: str, thread_id: str, run_id: str, step_id: str,
                    change: Callable[[dict], dict],
                    events: Callable[[dict, dict], list[Event]] | None = None) -> dict:
        """Apply `change` to a step under its ETag (parallel tool calls each add their output).

        `events(before, after)` names the run events the change makes, appended in the same transaction.
        """
        for _ in range(UPDATE_ATTEMPTS):
            record, entity = self.load_step(principal, thread_id, run_id, step_id)
            before = copy.deepcopy(record)
            updated = change(record)
            operations, blob = self.step_operations(principal, updated, entity.metadata["etag"])
            made = events(before, updated) if events else []
            event_blobs = []
            if made:
                event_operations, event_blobs, _ = self.events.operations(
                    thread_id, run_id, self.events.head(thread_id, run_id), made)
                operations += event_operations
            try:
                self.threads.transact(principal, thread_id, lambda state: ({}, operations))
            except PreconditionFailed:
                self._codec.discard(blob)
                self.events.discard(event_blobs)
                continue
            except BaseException:
                self._codec.discard(blob)
                self.events.discard(event_blobs)
                raise
            self._codec.discard(entity.get("blob"))
            if made:
                wakeups.wake(thread_id, run_id)
            return updated
        raise Conflict(f"Run step {step_id} was modified concurrently; please retry.")

    def load_step(self, principal: str, thread_id: str, run_id: str, step_id: str) -> tuple[dict, dict]:
        self.load(principal, thread_id, run_id)
        entity = steps_of(run_id).get(self.table, thread_id, step_id) if ids.is_id("step", step_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("run step", step_id)
        return self._codec.decode(entity), entity

    def list_steps(self, principal: str, thread_id: str, run_id: str, request: PageRequest) -> Page:
        self.load(principal, thread_id, run_id)
        rows, has_more = steps_of(run_id).page(self.table, thread_id, request)
        return Page(self._codec.decode_all(rows), has_more)

    def all_steps(self, principal: str, thread_id: str, run_id: str) -> list[dict]:
        """Every step of a run, oldest first (the run engine rebuilds a turn's context from them)."""
        steps: list[dict] = []
        after = None
        while True:
            page = self.list_steps(principal, thread_id, run_id, PageRequest(limit=100, order="asc", after=after))
            steps += page.data
            if not page.has_more:
                return steps
            after = page.data[-1]["id"]


class RunChange:
    """What one `RunRepository.update` writes: the new run record and rows that go with it."""

    def __init__(self, record: dict, operations: list | None = None, blobs: list | None = None,
                 release_thread: bool = False, events: list[Event] | None = None):
        self.record = record
        self.operations = operations or []
        self.blobs = [name for name in (blobs or []) if name]
        self.release_thread = release_thread
        self.events = events or []
