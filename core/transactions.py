"""Submitting entity-group transactions and telling apart why one failed."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from azure.data.tables import TableClient, TableTransactionError

T = TypeVar("T")

MAX_OPERATIONS = 100
# Optimistic-concurrency retries: enough for a handful of writers racing on one row.
ATTEMPTS = 30
_BACKOFF_CAP_SECONDS = 0.2
# Table storage accepts 4 MiB per transaction; binary properties travel base64-encoded.
MAX_PAYLOAD_BYTES = 3 * 1024 * 1024


class TransactionFailed(Exception):
    """A transaction was refused as a whole; `index` is the operation that failed."""

    def __init__(self, index: int):
        super().__init__(f"{type(self).__name__} at operation {index}")
        self.index = index


class PreconditionFailed(TransactionFailed):
    """An ETag condition did not hold: someone else wrote first."""


class EntityMissing(TransactionFailed):
    """An operation addressed an entity that does not exist (e.g. deleted concurrently)."""


def submit(table: TableClient, operations: list) -> list:
    """Run `operations` atomically, naming the usual reasons for refusal; returns each operation's
    outcome (its new `etag`, in order)."""
    try:
        return table.submit_transaction(operations)
    except TableTransactionError as error:
        if error.status_code in (409, 412):  # 409: a row this write creates was created first by another
            raise PreconditionFailed(error.index) from error
        if error.status_code == 404:
            raise EntityMissing(error.index) from error
        raise


def payload_size(operation: tuple) -> int:
    entity = operation[1]
    size = 512
    for value in entity.values():
        size += len(value) * 4 // 3 + 64 if isinstance(value, (bytes, bytearray)) else len(str(value)) * 2 + 64
    return size


def chunks(operations: list) -> list[list]:
    """Split operations into transactions within Table storage's count and size limits."""
    batches: list[list] = [[]]
    size = 0
    for operation in operations:
        cost = payload_size(operation)
        if batches[-1] and (len(batches[-1]) >= MAX_OPERATIONS or size + cost > MAX_PAYLOAD_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(operation)
        size += cost
    return [batch for batch in batches if batch]


def pause_before_retry(attempt: int) -> None:
    """Exponential backoff with full jitter, so racing writers spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, 0.005 * 2 ** attempt)))


def retry_on_conflict(attempt: Callable[[], T], on_exhausted: Callable[[], Exception],
                      retry_if: Callable[[PreconditionFailed], bool] = lambda error: True) -> T:
    """The one optimistic-concurrency policy: run `attempt` (read, decide, conditional write) again
    while it loses the race (PreconditionFailed), backing off between tries.

    `attempt` must read afresh each time; `on_exhausted()` builds the error raised when every try
    lost; a lost race that `retry_if` rejects is left to the caller's own (outer) retry.
    """
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except PreconditionFailed as error:
            if not retry_if(error):
                raise
            pause_before_retry(number)
    raise on_exhausted()
