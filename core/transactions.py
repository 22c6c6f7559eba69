"""Submitting entity-group transactions and telling apart why one failed.

`submit` frames the transaction itself (`core.batch_wire`, which says why) but leaves the rest to
azure-data-tables: its `TableBatchOperations` builds the sub-requests exactly as `submit_transaction`
would, and the request travels the client's own pipeline. Those two are the library's internals, so
requirements.in pins azure-data-tables to the minor version this was written and tested against.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from typing import Any, Callable, Sequence, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest
from azure.data.tables import RequestTooLargeError, TableClient, TableTransactionError
from azure.data.tables._table_batch import TableBatchOperations

from core import batch_wire
from core.collection import Operation

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


# Every row a transaction writes carries the transaction's token, so a transaction whose answer was lost
# (the connection reset after the service committed it, or a 5xx the service answered after committing)
# can tell, by reading one of its rows, whether it committed: then it succeeded, and is not sent again
# (sent again it would fail its own conditions and a create would report its own row as a conflict).
WRITE_TOKEN = "write_token"
SUBMIT_ATTEMPTS = 5


def submit(table: TableClient, operations: Sequence[Operation]) -> list[dict[str, Any]]:
    """Run `operations` (as `TableClient.submit_transaction` takes them) atomically, naming the usual
    reasons for refusal; returns each operation's outcome (its new `etag`, in order).

    Idempotent under a lost answer: the library does not retry a POST whose connection broke, and may
    resend one the service answered 500/503 after committing; here the transaction's token decides."""
    if not operations:
        return []
    token = uuid.uuid4().hex
    stamped = [_stamped(operation, token) for operation in operations]
    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            return _submit_once(table, stamped)
        except TransactionFailed:
            if _committed(table, stamped, token):  # an earlier attempt (ours or the library's) committed
                return _outcomes(table, stamped)
            raise
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as error:
            status = getattr(error, "status_code", None)
            if isinstance(error, HttpResponseError) and not isinstance(error, (ServiceRequestError,
                                                                               ServiceResponseError)) \
                    and (status is None or status < 500):
                raise
            if _committed(table, stamped, token):
                return _outcomes(table, stamped)
            if attempt == SUBMIT_ATTEMPTS - 1:
                raise
            time.sleep(min(2.0, 0.1 * 2 ** attempt) * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")


def _stamped(operation: Operation, token: str) -> Operation:
    if operation[0] == "delete":
        return operation
    return (operation[0], {**operation[1], WRITE_TOKEN: token}, *operation[2:])


def _marker(operations: list[Operation]) -> Operation | None:
    """The row that tells whether the transaction committed: one it creates (nobody else writes it),
    else one it replaces under an ETag, else any row it writes."""
    writes = [operation for operation in operations if operation[0] != "delete"]
    for wanted in (lambda op: op[0] == "create",
                   lambda op: len(op) > 2 and op[2].get("etag"),
                   lambda op: True):
        found = next((operation for operation in writes if wanted(operation)), None)
        if found is not None:
            return found
    return None


def _committed(table: TableClient, operations: list[Operation], token: str) -> bool:
    marker = _marker(operations)
    if marker is None:
        return False
    try:
        entity = table.get_entity(marker[1]["PartitionKey"], marker[1]["RowKey"], select=[WRITE_TOKEN])
    except ResourceNotFoundError:
        return False
    return entity.get(WRITE_TOKEN) == token


def _outcomes(table: TableClient, operations: list[Operation]) -> list[dict[str, Any]]:
    """Each operation's outcome after a commit whose answer was lost: the rows' ETags, read back."""
    outcomes: list[dict[str, Any]] = []
    for operation in operations:
        if operation[0] == "delete":
            outcomes.append({})
            continue
        try:
            entity = table.get_entity(operation[1]["PartitionKey"], operation[1]["RowKey"], select=[WRITE_TOKEN])
            outcomes.append({"etag": entity.metadata["etag"]})
        except ResourceNotFoundError:
            outcomes.append({})
    return outcomes


def _submit_once(table: TableClient, operations: list[Operation]) -> list[dict[str, Any]]:
    endpoint = f"{table.scheme}://{table._primary_hostname}"
    built = TableBatchOperations(config=table._client._config, endpoint=endpoint, table_name=table.table_name,
                                 is_cosmos_endpoint=table._cosmos_endpoint)
    for operation in operations:
        built.add_operation(operation)
    content_type, body = batch_wire.encode(
        [batch_wire.SubRequest(r.method, r.url, r.headers, _bytes(r.content)) for r in built.requests],
        f"batch_{uuid.uuid4()}", f"changeset_{uuid.uuid4()}")
    request = HttpRequest("POST", f"{endpoint}/$batch", content=body, headers={
        "x-ms-version": table.api_version, "DataServiceVersion": "3.0", "MaxDataServiceVersion": "3.0;NetFx",
        "Content-Type": content_type, "Accept": "application/json"})
    with table._client.send_request(request, stream=True) as response:
        response.read()
        if response.status_code != 202:  # refused as a whole (authorization, size, a malformed batch)
            raise HttpResponseError(response=response)
        parts = batch_wire.decode(response.headers.get("Content-Type", ""), response.content)
    failed = next((part for part in parts if not 200 <= part.status < 300), None)
    if failed is not None:
        error = _refusal(failed.status, failed.body)
        if failed.status in (409, 412):  # 409: a row this write creates was created first by another
            raise PreconditionFailed(error.index) from error
        if failed.status == 404:
            raise EntityMissing(error.index) from error
        raise error
    if len(parts) != len(operations):
        raise batch_wire.MalformedBatchResponse(f"{len(parts)} responses to {len(operations)} operations")
    return [{"etag": part.headers["etag"]} if "etag" in part.headers else {} for part in parts]


def _bytes(content: str | bytes | None) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content or b""


def _refusal(status: int, body: bytes) -> TableTransactionError:
    """The library's error for an operation that failed the transaction; the service prefixes its
    message with the operation's index ("3:The specified entity already exists...")."""
    code, message = None, body.decode("utf-8", "replace")
    try:
        error = json.loads(body)["odata.error"]
        code, message = error.get("code"), error["message"]["value"]
    except (ValueError, KeyError, TypeError):
        pass
    kind = RequestTooLargeError if status == 413 else TableTransactionError
    refused = kind(message=message or f"the transaction was refused ({status})")
    # `error_code` is the library's documented ivar of its table errors, set by its own error handling but
    # not declared on the class, so mypy cannot see it.
    refused.status_code, refused.error_code = status, code  # type: ignore[attr-defined]
    return refused


def payload_size(operation: Operation) -> int:
    entity = operation[1]
    size = 512
    for value in entity.values():
        size += len(value) * 4 // 3 + 64 if isinstance(value, (bytes, bytearray)) else len(str(value)) * 2 + 64
    return size


def chunks(operations: Sequence[Operation]) -> list[list[Operation]]:
    """Split operations into transactions within Table storage's count and size limits."""
    batches: list[list[Operation]] = [[]]
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
