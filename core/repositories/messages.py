"""Messages of a thread, stored in the thread's partition (see core.repositories.threads)."""

from __future__ import annotations

from typing import Callable

from core import ids
from core.codec import Codec
from core.collection import Collection
from core.errors import Conflict, InvalidRequest, NotFound
from core.pagination import Page, PageRequest
from core.repositories.threads import ThreadRepository, ThreadState, blob_scope
from core.store import Store
from core.transactions import ATTEMPTS, EntityMissing, PreconditionFailed, pause_before_retry, submit

MESSAGES = Collection("msg")


class MessageRepository:
    def __init__(self, store: Store, threads: ThreadRepository | None = None):
        self._store = store
        self._codec = Codec(store)
        self.threads = threads or ThreadRepository(store)

    @property
    def table(self):
        return self.threads.table

    def prepare(self, principal: str, record: dict) -> tuple[list, str | None]:
        """The operations that insert `record` (and the blob written if it had to spill)."""
        properties, blob = self._codec.encode(record, blob_scope(record["thread_id"]))
        properties.update(owner=principal, created_at=record["created_at"], role=record["role"],
                          run_id=record.get("run_id") or "")
        return MESSAGES.create_ops(record["thread_id"], record["id"], properties), blob

    def discard_spill(self, blob: str | None) -> None:
        """Undo `prepare`'s blob when its operations were never committed."""
        self._codec.discard(blob)

    def create(self, principal: str, record: dict, *, during_run: str | None = None) -> dict:
        """Append a message. Refused while a run is active, unless it is that run (`during_run`)
        appending its own output."""
        thread_id = record["thread_id"]
        operations, blob = self.prepare(principal, record)

        def build(state: ThreadState) -> tuple[dict, list]:
            if state.active_run_id and state.active_run_id != during_run:
                raise InvalidRequest(
                    f"Can't add messages to {thread_id} while a run {state.active_run_id} is active.")
            return {}, operations

        try:
            self.threads.transact(principal, thread_id, build)
        except BaseException:
            self._codec.discard(blob)
            raise
        return record

    def load(self, principal: str, thread_id: str, message_id: str) -> tuple[dict, dict]:
        self.threads.state(principal, thread_id)
        entity = MESSAGES.get(self.table, thread_id, message_id) if ids.is_id("message", message_id) else None
        if entity is None or entity.get("owner") != principal:
            raise NotFound("message", message_id)
        return self._codec.decode(entity), entity

    def get(self, principal: str, thread_id: str, message_id: str) -> dict:
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

    def update(self, principal: str, thread_id: str, message_id: str, change: Callable[[dict], dict]) -> dict:
        """Apply `change` under optimistic concurrency (metadata edits; the run engine's output)."""
        for attempt in range(ATTEMPTS):
            record, entity = self.load(principal, thread_id, message_id)
            updated = change(record)
            properties, blob = self._codec.encode(updated, blob_scope(thread_id))
            properties.update(owner=principal, created_at=updated["created_at"], role=updated["role"],
                              run_id=updated.get("run_id") or "")
            try:
                submit(self.table, MESSAGES.replace_ops(thread_id, message_id, properties, entity.metadata["etag"]))
            except PreconditionFailed:
                self._codec.discard(blob)
                pause_before_retry(attempt)
                continue
            except EntityMissing as error:
                self._codec.discard(blob)
                raise NotFound("message", message_id) from error
            except BaseException:
                self._codec.discard(blob)
                raise
            self._codec.discard(entity.get("blob"))
            return updated
        raise Conflict(f"Message {message_id} was modified concurrently; please retry.")

    def delete(self, principal: str, thread_id: str, message_id: str) -> None:
        _, entity = self.load(principal, thread_id, message_id)
        try:
            submit(self.table, MESSAGES.delete_ops(thread_id, message_id))
        except EntityMissing as error:
            raise NotFound("message", message_id) from error
        self._codec.discard(entity.get("blob"))
