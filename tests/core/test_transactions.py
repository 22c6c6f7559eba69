"""Transactions against real Azurite: what `submit` stores is what the library's own submit would store,
and a refusal names its reason and the operation at fault."""

from __future__ import annotations

import datetime
import uuid

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableTransactionError, UpdateMode

from core.storage_connection import AZURITE_KEY, StorageConnection
from core.store import Store
from core.transactions import WRITE_TOKEN, EntityMissing, PreconditionFailed, submit
from tests.support.storage_faults import FaultRates, StorageFaultProxy

STALE = 'W/"datetime\'2020-01-01T00%3A00%3A00.0000000Z\'"'


@pytest.fixture
def table(store):
    return store.table("transactiontests")


@pytest.fixture
def partition() -> str:
    return f"p-{uuid.uuid4().hex}"


def _entity(partition: str, row: str) -> dict:
    return {"PartitionKey": partition, "RowKey": row, "text": "ünïcödé 😀 ' \" \r\n--changeset_x",
            "blob": b"\x00\xff--batch", "count": 7, "big": 2 ** 40 // 2 ** 10, "flag": True, "ratio": 0.25,
            "when": datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.timezone.utc)}


def test_submit_stores_what_the_librarys_submit_stores_and_returns_each_etag(table, partition):
    ours, theirs = [_entity(partition, f"ours-{i}") for i in range(3)], [_entity(partition, f"theirs-{i}") for i in range(3)]
    outcome = submit(table, [("create", entity) for entity in ours])
    table.submit_transaction([("create", entity) for entity in theirs])
    for mine, reference, result in zip(ours, theirs, outcome):
        stored, expected = table.get_entity(partition, mine["RowKey"]), table.get_entity(partition, reference["RowKey"])
        assert len(stored[WRITE_TOKEN]) == 32  # the transaction's token (core.transactions)
        assert {k: v for k, v in stored.items() if k not in ("RowKey", WRITE_TOKEN)} == \
            {k: v for k, v in expected.items() if k != "RowKey"}
        assert result["etag"] == stored.metadata["etag"]


def _columns(entity) -> dict:
    """The entity's own columns, without the token of the transaction that last wrote it."""
    return {key: value for key, value in entity.items() if key != WRITE_TOKEN}


def test_every_operation_kind_with_its_conditions(table, partition):
    [created] = submit(table, [("create", {"PartitionKey": partition, "RowKey": "a", "n": 1})])
    [replaced] = submit(table, [("update", {"PartitionKey": partition, "RowKey": "a", "m": 2},
                                 {"mode": UpdateMode.REPLACE, "etag": created["etag"],
                                  "match_condition": MatchConditions.IfNotModified})])
    assert _columns(table.get_entity(partition, "a")) == {"PartitionKey": partition, "RowKey": "a", "m": 2}
    submit(table, [("update", {"PartitionKey": partition, "RowKey": "a", "n": 3}, {"mode": UpdateMode.MERGE}),
                   ("upsert", {"PartitionKey": partition, "RowKey": "b", "n": 4})])
    assert _columns(table.get_entity(partition, "a")) == {"PartitionKey": partition, "RowKey": "a", "m": 2, "n": 3}
    assert replaced["etag"] != table.get_entity(partition, "a").metadata["etag"]
    assert submit(table, [("delete", {"PartitionKey": partition, "RowKey": "a"}),
                          ("delete", {"PartitionKey": partition, "RowKey": "b"})]) == [{}, {}]
    assert list(table.query_entities("PartitionKey eq @p", parameters={"p": partition})) == []
    assert submit(table, []) == []


@pytest.mark.parametrize("refused, reason, index", [
    ([("create", {"RowKey": "new"}), ("create", {"RowKey": "exists"})], PreconditionFailed, 1),
    ([("create", {"RowKey": "new"}), ("update", {"RowKey": "exists"},
                                      {"etag": STALE, "match_condition": MatchConditions.IfNotModified})],
     PreconditionFailed, 1),
    ([("create", {"RowKey": "new"}), ("upsert", {"RowKey": "other"}), ("update", {"RowKey": "absent"})],
     EntityMissing, 2),
])
def test_a_refused_transaction_names_its_reason_and_the_operation_at_fault_and_writes_nothing(
        table, partition, refused, reason, index):
    submit(table, [("create", {"PartitionKey": partition, "RowKey": "exists"})])
    operations = [(kind, {"PartitionKey": partition, **entity}, *rest) for kind, entity, *rest in refused]
    with pytest.raises(reason) as caught:
        submit(table, operations)
    assert caught.value.index == index
    rows = [e["RowKey"] for e in table.query_entities("PartitionKey eq @p", parameters={"p": partition})]
    assert rows == ["exists"]


def test_a_refusal_without_a_named_reason_keeps_the_services_status_and_message(table, partition):
    too_big = {"PartitionKey": partition, "RowKey": "big", "text": "x" * 40_000}  # over 64 KiB as UTF-16
    with pytest.raises(TableTransactionError) as caught:
        submit(table, [("create", {"PartitionKey": partition, "RowKey": "fine"}), ("create", too_big)])
    assert caught.value.status_code == 400 and caught.value.index == 1
    assert "64KB" in caught.value.message


def test_a_batch_the_service_refuses_as_a_whole_raises_its_status_and_writes_nothing(azurite, table, partition):
    wrong_key = azurite.connection_string.replace(AZURITE_KEY, "A" * len(AZURITE_KEY))
    stranger = StorageConnection(wrong_key, None, None).table_service().get_table_client(table.table_name)
    with pytest.raises(HttpResponseError) as caught:
        submit(stranger, [("create", {"PartitionKey": partition, "RowKey": "a"})])
    assert caught.value.status_code == 403
    assert list(table.query_entities("PartitionKey eq @p", parameters={"p": partition})) == []


def test_a_transaction_whose_answer_is_lost_is_told_committed_not_conflicting(azurite, partition):
    """The storage account commits the write and the connection breaks before its answer: the write
    is neither reported as failed nor, sent again, as a conflict with itself."""
    proxy = StorageFaultProxy(azurite.ports, FaultRates(drop=1.0), seed=1)
    try:
        proxy.enabled = False  # the table is there before every write's answer is lost
        table = Store(StorageConnection(proxy.connection_string, None, None)).table("transactiontests")
        proxy.enabled = True
        [created] = submit(table, [("create", {"PartitionKey": partition, "RowKey": "a", "n": 1})])
        [replaced] = submit(table, [("update", {"PartitionKey": partition, "RowKey": "a", "n": 2},
                                     {"mode": UpdateMode.REPLACE, "etag": created["etag"],
                                      "match_condition": MatchConditions.IfNotModified})])
        stored = table.get_entity(partition, "a")
        assert stored["n"] == 2 and stored.metadata["etag"] == replaced["etag"]
        assert proxy.faults["drop"] >= 2
        proxy.enabled = False
        with pytest.raises(PreconditionFailed):  # a real conflict is still one
            submit(table, [("create", {"PartitionKey": partition, "RowKey": "a", "n": 3})])
    finally:
        proxy.stop()
