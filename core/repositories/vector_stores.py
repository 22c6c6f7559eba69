"""Vector stores, their files and file batches, in the owner's partition of one table.

A store is an owned record (kind `vs`); its files and batches are owned records
of kinds derived from the store's id, so a store's files list as one range
scan. Counts (`file_counts`, `usage_bytes`) and the statuses that follow from
them are computed from the files' status columns when a store or batch is
read — never kept as counters that a crash between two writes could skew.
A store file's id is its file's id; attaching a file again re-ingests it.

What the service keeps of a store, a store file or a batch beside its public
record (core.vector_store_bookkeeping) is the row's `books` property; `split` is
the one place that tells the two apart, so every record this repository returns
is public.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar, cast

from core import ids
from core.errors import InvalidRequest, NotFound
from core.file_search.backends import backend
from core.file_search.segments import SegmentStore
from core.pagination import Page, PageRequest
from core.repositories.owned import OwnedRecords, scan_columns
from core.store import Store
from core.transactions import PreconditionFailed
from core.vector_store_bookkeeping import BatchBookkeeping, Bookkeeping, StoreBookkeeping, StoreFileBookkeeping
from core.wire.vector_stores import FileCounts, expires_at

TABLE = "vectorstores"
# last_active_at is written at most this often, so searches do not all write the store record.
ACTIVE_RESOLUTION_SECONDS = 60
MAX_SEARCHED_FILES = 10_000
STATUSES = ("in_progress", "completed", "failed", "cancelled")
BOOKS = "books"  # the row property holding the record's bookkeeping

B = TypeVar("B", bound=Bookkeeping)


def split(record: dict[str, Any], entity: Mapping[str, Any], kind: type[B]) -> tuple[dict[str, Any], B]:
    """The public record and its bookkeeping, from a row as read: the one place they are told apart. A record
    stored before its bookkeeping had a property of its own kept it inside (`kind.INSIDE`), which is read here."""
    public = {key: value for key, value in record.items() if key not in kind.INSIDE}
    if entity.get(BOOKS) is not None:
        return public, kind.load(entity[BOOKS])
    return public, kind.from_inside(record)


def beside(books: Bookkeeping) -> dict[str, Any]:
    """The row properties that keep `books` beside its record."""
    properties: dict[str, Any] = {BOOKS: books.dump()}
    if isinstance(books, StoreFileBookkeeping):
        properties["batch_id"] = books.batch_id or ""  # a column: a batch's counts and file list query it
    return properties


def _file_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {"status": record["status"], "usage_bytes": record["usage_bytes"]}


def counts(rows: list[dict[str, Any]], batch_id: str | None = None) -> tuple[dict[str, Any], int]:
    """file_counts and usage_bytes of store-file rows (those of one batch when `batch_id`)."""
    tally = {status: 0 for status in STATUSES}
    usage = 0
    for row in rows:
        if batch_id is not None and row.get("batch_id") != batch_id:
            continue
        tally[row["status"]] = tally.get(row["status"], 0) + 1
        usage += int(row.get("usage_bytes") or 0)
    return FileCounts(**tally, total=sum(tally.values())).model_dump(), usage


def store_status(record: dict[str, Any], file_counts: dict[str, Any], now: int) -> str:
    deadline = expires_at(record.get("expires_after"), record["last_active_at"])
    if deadline is not None and now >= deadline:
        return "expired"
    return "in_progress" if file_counts["in_progress"] else "completed"


def batch_status(books: BatchBookkeeping, file_counts: dict[str, Any]) -> str:
    if books.cancelled:
        return "cancelled"
    return "in_progress" if file_counts["in_progress"] else "completed"


def _update(records: OwnedRecords, principal: str, object_id: str, kind: type[B],
            change: Callable[[dict[str, Any], B], tuple[dict[str, Any], B]]) -> tuple[dict[str, Any], B]:
    """Apply `change` to a public record and its bookkeeping (the row's, even if stored inside the record)."""
    def apply(record: dict[str, Any], entity: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        public, books = change(*split(record, entity, kind))
        return public, beside(books)

    public, written = records.update_beside(principal, object_id, apply)
    return public, kind.load(written[BOOKS])


class _NoLongerInProgress(Exception):
    """The store file was cancelled, re-attached or finished elsewhere."""


class VectorStoreRepository:
    def __init__(self, store: Store):
        self._store = store
        self.stores = OwnedRecords(store, TABLE, "vs", "vector_store")
        self.segments = SegmentStore(store)

    def files(self, store_id: str) -> OwnedRecords:
        return OwnedRecords(self._store, TABLE, f"f{ids.body(store_id)}", "file", columns=_file_columns)

    def settle_file(self, principal: str, store_id: str, file_id: str, segment: str | None = None,
                    **changes: Any) -> bool:
        """Apply `changes` to a store file still in progress (and record its ingested `segment`); False when it
        is not (cancelled, re-attached or finished elsewhere) or gone, so a late result is void."""
        def change(record: dict[str, Any], books: StoreFileBookkeeping) -> tuple[dict[str, Any], StoreFileBookkeeping]:
            if record["status"] != "in_progress":
                raise _NoLongerInProgress()
            return {**record, **changes}, books.model_copy(update={"segment": segment}) if segment else books

        try:
            _update(self.files(store_id), principal, file_id, StoreFileBookkeeping, change)
        except (NotFound, _NoLongerInProgress):
            return False
        return True

    def fail_file(self, principal: str, store_id: str, file_id: str, code: str, message: str) -> bool:
        """A store file in progress ends `failed` with OpenAI's last_error code."""
        return self.settle_file(principal, store_id, file_id, status="failed",
                                last_error={"code": code, "message": message[:1000]})

    def fail_files(self, principal: str, store_id: str, file_ids: list[str]) -> None:
        """Files an ingestion could not finish (it failed past its retries, or never started) end `failed`."""
        for file_id in file_ids:
            self.fail_file(principal, store_id, file_id, "server_error", "The file could not be processed; please "
                                                                           "try again.")

    def batches(self, store_id: str) -> OwnedRecords:
        return OwnedRecords(self._store, TABLE, f"b{ids.body(store_id)}", "vector_store_file_batch")

    # ---- stores -----------------------------------------------------------------------------

    def create_store(self, principal: str, record: dict[str, Any],
                     books: StoreBookkeeping | None = None) -> dict[str, Any]:
        return self.stores.insert(principal, record, beside(books or StoreBookkeeping()))

    def load_store(self, principal: str, store_id: str) -> dict[str, Any]:
        return self.stored_store(principal, store_id)[0]

    def stored_store(self, principal: str, store_id: str) -> tuple[dict[str, Any], StoreBookkeeping]:
        return split(*self.stores.load(principal, store_id), StoreBookkeeping)

    def list_stores(self, principal: str, request: PageRequest) -> Page:
        rows, has_more = self.stores.list_beside(principal, request)
        return Page([split(record, entity, StoreBookkeeping)[0] for record, entity in rows], has_more)

    def update_store(self, principal: str, store_id: str,
                     change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return _update(self.stores, principal, store_id, StoreBookkeeping,
                       lambda record, books: (change(record), books))[0]

    def view(self, principal: str, record: dict[str, Any], now: int) -> dict[str, Any]:
        """The vector_store object: the (public) record plus counts, usage, status and expiry."""
        file_counts, usage = counts(self.file_rows(principal, record["id"]))
        return {**record, "usage_bytes": usage, "file_counts": file_counts,
                "status": store_status(record, file_counts, now),
                "expires_at": expires_at(record.get("expires_after"), record["last_active_at"])}

    def ingesting(self, principal: str, store_id: str) -> int:
        """How many of the store's files are still being ingested."""
        return cast(int, counts(self.file_rows(principal, store_id))[0]["in_progress"])

    def file_rows(self, principal: str, store_id: str) -> list[dict[str, Any]]:
        return scan_columns(self.files(store_id), principal, ["status", "usage_bytes", "batch_id"])

    def use(self, principal: str, store_id: str, now: int) -> dict[str, Any]:
        """The store, about to be searched: refused if expired, else its use recorded (last_active_at,
        which its expiry counts from)."""
        record = self.load_store(principal, store_id)
        if store_status(record, {"in_progress": 0}, now) == "expired":
            raise InvalidRequest(f"Vector store {store_id} is expired; it can no longer be searched.",
                                 param="vector_store_ids", code="vector_store_expired")
        if now - record["last_active_at"] < ACTIVE_RESOLUTION_SECONDS:
            return record
        return self.update_store(principal, store_id, lambda current: {**current, "last_active_at": now})

    def delete_store(self, principal: str, store_id: str) -> None:
        """The store record first (so it is gone at once), then its files, batches and chunks."""
        self.stores.delete(principal, store_id)
        for records in (self.files(store_id), self.batches(store_id)):
            records.delete_all(principal)
        self.segments.delete_store(store_id)
        backend(self.segments).remove_store(store_id)

    # ---- store files ------------------------------------------------------------------------

    def attach(self, principal: str, record: dict[str, Any], books: StoreFileBookkeeping) -> dict[str, Any]:
        """Insert the store-file record, or replace an existing one (the file is ingested again)."""
        files = self.files(record["vector_store_id"])
        try:
            files.load(principal, record["id"])
        except NotFound:
            try:
                return files.insert(principal, record, beside(books))
            except PreconditionFailed:  # attached concurrently: this attachment replaces that one
                pass
        return _update(files, principal, record["id"], StoreFileBookkeeping, lambda current, kept: (record, books))[0]

    def store_file(self, principal: str, store_id: str, file_id: str) -> dict[str, Any]:
        return self.stored_file(principal, store_id, file_id)[0]

    def stored_file(self, principal: str, store_id: str, file_id: str) -> tuple[dict[str, Any], StoreFileBookkeeping]:
        return split(*self.files(store_id).load(principal, file_id), StoreFileBookkeeping)

    def update_file(self, principal: str, store_id: str, file_id: str,
                    change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return _update(self.files(store_id), principal, file_id, StoreFileBookkeeping,
                       lambda record, books: (change(record), books))[0]

    def list_files(self, principal: str, store_id: str, request: PageRequest, status: str | None = None,
                   batch_id: str | None = None) -> Page:
        clauses, parameters = [], {}
        if status:
            clauses.append("status eq @status")
            parameters["status"] = status
        if batch_id:
            clauses.append("batch_id eq @batch")
            parameters["batch"] = batch_id
        rows, has_more = self.files(store_id).list_beside(principal, request, " and ".join(clauses) or None,
                                                          parameters)
        return Page([split(record, entity, StoreFileBookkeeping)[0] for record, entity in rows], has_more)

    def detach(self, principal: str, store_id: str, file_id: str) -> None:
        """Remove the file from the store and its chunks from the index."""
        self.files(store_id).delete(principal, file_id)
        self.segments.delete(store_id, file_id)
        backend(self.segments).remove(store_id, file_id)

    def detach_everywhere(self, principal: str, file_id: str) -> None:
        """Remove a deleted file from every store of the principal (as OpenAI does on file delete)."""
        for row in scan_columns(self.stores, principal, []):
            try:
                self.detach(principal, row["id"], file_id)
            except NotFound:
                continue

    def completed_files(self, principal: str, store_id: str) -> list[tuple[dict[str, Any], StoreFileBookkeeping]]:
        """Every completed file's record (attributes) and bookkeeping (segment version, name): what search reads."""
        request = PageRequest(limit=MAX_SEARCHED_FILES, order="asc")
        rows, _ = self.files(store_id).list_beside(principal, request, "status eq @status", {"status": "completed"})
        return [split(record, entity, StoreFileBookkeeping) for record, entity in rows]

    # ---- batches ----------------------------------------------------------------------------

    def create_batch(self, principal: str, record: dict[str, Any]) -> dict[str, Any]:
        return self.batches(record["vector_store_id"]).insert(principal, record, beside(BatchBookkeeping()))

    def load_batch(self, principal: str, store_id: str, batch_id: str) -> tuple[dict[str, Any], BatchBookkeeping]:
        return split(*self.batches(store_id).load(principal, batch_id), BatchBookkeeping)

    def cancel_batch(self, principal: str, store_id: str, batch_id: str) -> tuple[dict[str, Any], BatchBookkeeping]:
        """The batch is cancelled, and every file of it still in progress becomes `cancelled`."""
        cancelled = _update(self.batches(store_id), principal, batch_id, BatchBookkeeping,
                            lambda record, books: (record, books.model_copy(update={"cancelled": True})))
        self.cancel_batch_files(principal, store_id, batch_id)
        return cancelled

    def cancel_batch_files(self, principal: str, store_id: str, batch_id: str) -> None:
        """Every file of the batch still in progress becomes `cancelled`."""
        for row in self.file_rows(principal, store_id):
            if row.get("batch_id") == batch_id and row["status"] == "in_progress":
                try:
                    self.update_file(principal, store_id, row["id"], lambda current: {**current, "status": "cancelled"}
                                     if current["status"] == "in_progress" else current)
                except NotFound:
                    pass

    def batch_view(self, principal: str, record: dict[str, Any], books: BatchBookkeeping) -> dict[str, Any]:
        """The vector_store.files_batch object: the (public) record plus its files' counts and its status."""
        file_counts, _ = counts(self.file_rows(principal, record["vector_store_id"]), record["id"])
        return {**record, "file_counts": file_counts, "status": batch_status(books, file_counts)}
