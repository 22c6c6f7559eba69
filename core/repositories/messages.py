"""Messages of a thread, stored in the thread's partition (see core.repositories.threads)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Callable, Iterator

from azure.data.tables import TableClient, TableEntity

from core import ids
from core.codec import Codec, Staging
from core.collection import Collection, Operation
from core.errors import Conflict, NotFound, ThreadBusy
from core.pagination import Page, PageRequest
from core.repositories.threads import ThreadRepository, ThreadState
from core.store import Store
from core.thread_partition import blob_scope
from core.transactions import EntityMissing, retry_on_conflict, submit

MESSAGES = Collection("msg")


class MessageRepository:
    def __init__(self, store: Store, threads: ThreadRepository | None = None):
        self._store = store
        self._codec = Codec(store)
        self.threads = threads or ThreadRepository(store)

    @property
    def table(self) -> TableClient:
        return self.threads.table

    def _properties(self, principal: str, record: dict[str, Any], staged: Staging) -> dict[str, Any]:
        properties = staged.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"], role=record["role"],
                          run_id=record.get("run_id") or "")
        return properties

    def staged(self) -> AbstractContextManager[Staging]:
        """A write's spill staging (see Codec.staged), for callers that batch message inserts."""
        return self._codec.staged()

    def insert_ops(self, principal: str, record: dict[str, Any], staged: Staging) -> list[Operation]:
        """The operations that insert `record`; a spilled body is staged with the write it belongs to."""
        return MESSAGES.create_ops(record["thread_id"], record["id"], self._properties(principal, record, staged))

    def insert_all_ops(self, principal: str, records: list[dict[str, Any]], staged: Staging) -> list[Operation]:
        """The operations that insert `records`, in order (see insert_ops)."""
        return [operation for record in records for operation in self.insert_ops(principal, record, staged)]

    def create(self, principal: str, record: dict[str, Any]) -> dict[str, Any]:
        """Append a message; refused while a run is active on the thread."""
        thread_id = record["thread_id"]

        def build(state: ThreadState) -> tuple[dict[str, Any], list[Operation]]:
            if state.active_run_id:
                raise ThreadBusy(f"Can't add messages to {thread_id} while a run {state.active_run_id} is active.",
                                 thread_id, state.active_run_id)
            return {}, operations

        with self._codec.staged() as staged:
            operations = self.insert_ops(principal, record, staged)
            self.threads.transact(principal, thread_id, build)
        return record

    def load(self, principal: str, thread_id: str, message_id: str) -> tuple[dict[str, Any], TableEntity]:
        self.threads.state(principal, thread_id)
        entity = MESSAGES.get(self.table, thread_id, message_id) if ids.is_id("message", message_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("message", message_id)
        return self._codec.decode(entity), entity

    def get(self, principal: str, thread_id: str, message_id: str) -> dict[str, Any]:
        return self.load(principal, thread_id, message_id)[0]

    def list(self, principal: str, thread_id: str, request: PageRequest, run_id: str | None = None) -> Page:
        self.threads.state(principal, thread_id)
        return self.page_of_owned_thread(thread_id, request, run_id)

    def page_of_owned_thread(self, thread_id: str, request: PageRequest, run_id: str | None = None) -> Page:
        """A page of a thread whose ownership the caller has already established (the run engine,
        holding the thread's run), without reading the thread row again."""
        where, parameters = ("run_id eq @run_id", {"run_id": run_id}) if run_id else (None, None)
        rows, has_more = MESSAGES.page(self.table, thread_id, request, where, parameters)
        return Page(self._codec.decode_all(rows), has_more)

    def newest_first(self, thread_id: str) -> Iterator[dict[str, Any]]:
        """Every message of a thread the caller already holds, newest first, read lazily in large
        pages (the run engine stops reading once its token budget is met)."""
        page: list[dict[str, Any]] = []
        for entity in MESSAGES.scan(self.table, thread_id, order="desc"):
            page.append(entity)
            if len(page) == 100:
                yield from self._codec.decode_all(page)
                page = []
        yield from self._codec.decode_all(page)

    def update(self, principal: str, thread_id: str, message_id: str,
               change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `change` under optimistic concurrency (metadata edits; the run engine's output)."""
        def attempt() -> dict[str, Any]:
            record, entity = self.load(principal, thread_id, message_id)
            updated = change(record)
            with self._codec.staged() as staged:
                properties = self._properties(principal, updated, staged)
                etag = entity.metadata["etag"]
                assert etag is not None  # an entity as read has its ETag
                try:
                    submit(self.table, MESSAGES.replace_ops(thread_id, message_id, properties, etag))
                except EntityMissing as error:
                    raise NotFound("message", message_id) from error
            self._codec.discard(entity.get("blob"))
            return updated

        return retry_on_conflict(attempt, lambda: Conflict(f"Message {message_id} was modified concurrently; "
                                                           "please retry."))

    def delete(self, principal: str, thread_id: str, message_id: str) -> None:
        _, entity = self.load(principal, thread_id, message_id)
        try:
            submit(self.table, MESSAGES.delete_ops(thread_id, message_id))
        except EntityMissing as error:
            raise NotFound("message", message_id) from error
        self._codec.discard(entity.get("blob"))
