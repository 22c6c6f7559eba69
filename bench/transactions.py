"""Entity-group transactions against Azurite: `core.transactions.submit` vs the library's own
`TableClient.submit_transaction` (the baseline), CPU per transaction in this process.

Sizes are those of a run's writes: 4 operations (a turn's start), 7 (create_and_run), 9 (an answer).
"""

from __future__ import annotations

import json
import time
import uuid

from core.storage_connection import StorageConnection
from core.transactions import submit
from tests.support.azurite import start_azurite

SIZES = (1, 4, 7, 9)
REPEATS = 200


def _operations(partition: str, size: int, attempt: int) -> list:
    return [("upsert", {"PartitionKey": partition, "RowKey": f"{attempt:05d}-{index}", "body": "x" * 400,
                        "count": index}) for index in range(size)]


def _cpu_ms_per_call(send, partition: str, size: int) -> float:
    for attempt in range(20):  # warm-up: connections, first-call imports
        send(_operations(partition, size, attempt))
    started = time.process_time()
    for attempt in range(REPEATS):
        send(_operations(partition, size, attempt))
    return (time.process_time() - started) / REPEATS * 1000


def main() -> dict:
    azurite = start_azurite()
    try:
        service = StorageConnection(azurite.connection_string, None, None).table_service()
        table = service.create_table_if_not_exists("benchtransactions")
        result: dict = {}
        for size in SIZES:
            library = _cpu_ms_per_call(table.submit_transaction, f"library-{uuid.uuid4().hex}", size)
            ours = _cpu_ms_per_call(lambda operations: submit(table, operations), f"ours-{uuid.uuid4().hex}", size)
            result[f"ops_{size}_library_cpu_ms"] = round(library, 2)
            result[f"ops_{size}_submit_cpu_ms"] = round(ours, 2)
            result[f"ops_{size}_submit_vs_library_ratio"] = round(ours / library, 3)
    finally:
        azurite.stop()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
