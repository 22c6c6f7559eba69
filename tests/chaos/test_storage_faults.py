"""The storage fault proxy itself (tests/support/storage_faults.py): each fault does what it says, the
Azure SDKs read its errors as the service's own, the schedule follows its seed, and every fault is logged."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from functools import partial

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from core.storage_connection import table_endpoint, table_transport
from tests.support.storage_faults import KINDS, FaultRates, StorageFaultProxy

QUICK = (0.0, 0.01)  # delay faults, in seconds: this file tests the schedule, not the waiting


@pytest.fixture
def proxy(azurite, tmp_path):
    made = StorageFaultProxy(azurite.ports, FaultRates(delay_seconds=QUICK), seed=1, log_path=tmp_path / "faults.log")
    yield made
    made.stop()


def table(connection_string: str, name: str, create: bool = False, transport: str = "sdk"):
    """A table client on the SDK's own transport, or (`transport="app"`) on the one the app's table clients
    use (core.table_transport); retry_total=0: the test sees each answer the proxy gives, not a retry of it."""
    chosen = {} if transport == "sdk" else {"transport": table_transport(table_endpoint(connection_string))}
    service = TableServiceClient.from_connection_string(connection_string, retry_total=0, **chosen)
    return service.create_table_if_not_exists(name) if create else service.get_table_client(name)


TRANSPORTS = pytest.mark.parametrize("transport", ["sdk", "app"])


def every(service: str):
    return lambda s, verb, path: s == service


@TRANSPORTS
@pytest.mark.parametrize("kind,status,code", [("busy", 503, "ServerBusy"), ("timeout", 500, "OperationTimedOut")])
def test_busy_and_timeout_answers_read_as_the_services_errors_and_forward_nothing(azurite, proxy, kind, status,
                                                                                  code, transport):
    name = f"t{uuid.uuid4().hex[:12]}"
    table(azurite.connection_string, name, create=True)
    faulty = table(proxy.connection_string, name, transport=transport)
    proxy.plan(kind, every("Table"))
    with pytest.raises(HttpResponseError) as table_error:  # OData JSON body
        faulty.create_entity({"PartitionKey": "p", "RowKey": "r"})
    answer = table_error.value.response
    assert answer.status_code == status and answer.headers["x-ms-error-code"] == code
    assert answer.json()["odata.error"]["code"] == code
    with pytest.raises(ResourceNotFoundError):
        table(azurite.connection_string, name).get_entity("p", "r")

    blobs = BlobServiceClient.from_connection_string(proxy.connection_string, retry_total=0)
    proxy.plan(kind, every("Blob"))
    with pytest.raises(HttpResponseError) as blob_error:  # XML body
        blobs.get_service_properties()
    assert (blob_error.value.status_code, blob_error.value.error_code) == (status, code)

    proxy.plan(kind, every("Queue"))  # (no queue SDK among the dependencies: the answer as sent)
    with pytest.raises(urllib.error.HTTPError) as queue_error:
        urllib.request.urlopen(f"http://127.0.0.1:{proxy.ports['Queue']}/devstoreaccount1/q?comp=metadata", timeout=10)
    assert queue_error.value.code == status and queue_error.value.headers["x-ms-error-code"] == code
    assert f"<Code>{code}</Code>" in queue_error.value.read().decode()
    assert proxy.summary()[kind] == 3


@TRANSPORTS
def test_a_dropped_write_is_committed_and_its_answer_lost(azurite, proxy, transport):
    name = f"t{uuid.uuid4().hex[:12]}"
    table(azurite.connection_string, name, create=True)
    faulty = table(proxy.connection_string, name, transport=transport)
    proxy.plan("drop", every("Table"))
    with pytest.raises(ServiceResponseError):  # the request went out: the service may have acted (it did)
        faulty.create_entity({"PartitionKey": "p", "RowKey": "r", "n": 1})
    assert table(azurite.connection_string, name).get_entity("p", "r")["n"] == 1  # it was written
    assert proxy.summary()["drop"] == 1


def test_a_drop_is_never_applied_to_a_read(azurite, proxy):
    name = f"t{uuid.uuid4().hex[:12]}"
    table(azurite.connection_string, name, create=True).create_entity({"PartitionKey": "p", "RowKey": "r"})
    proxy.plan("drop", every("Table"))
    assert table(proxy.connection_string, name).get_entity("p", "r")["RowKey"] == "r"
    assert proxy.summary()["drop"] == 0 and proxy.planned_left() == 1  # kept for the next write


@TRANSPORTS
def test_a_reset_forwards_nothing(azurite, proxy, transport):
    name = f"t{uuid.uuid4().hex[:12]}"
    table(azurite.connection_string, name, create=True)
    proxy.plan("reset", every("Table"))
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        table(proxy.connection_string, name, transport=transport).create_entity({"PartitionKey": "p", "RowKey": "r"})
    with pytest.raises(ResourceNotFoundError):
        table(azurite.connection_string, name).get_entity("p", "r")


def faults_for_seed(azurite, log, seed: int) -> list[str]:
    """The kinds injected, in order, into the same 60 writes and reads under 8% of each fault kind."""
    proxy = StorageFaultProxy(azurite.ports, FaultRates(busy=0.08, timeout=0.08, delay=0.08, reset=0.08, drop=0.08,
                                                        delay_seconds=QUICK), seed=seed, log_path=log)
    try:
        proxy.enabled = False  # the table is made without faults
        faulty = table(proxy.connection_string, f"t{uuid.uuid4().hex[:12]}", create=True)
        proxy.enabled = True
        for n in range(30):
            for request in (partial(faulty.upsert_entity, {"PartitionKey": "p", "RowKey": str(n)}),
                            partial(faulty.get_entity, "p", str(n))):
                try:
                    request()
                except (HttpResponseError, ServiceRequestError, ServiceResponseError):
                    pass
        summary = proxy.summary()
    finally:
        proxy.stop()
    lines = log.read_text().splitlines()
    logged = [line.split()[2] for line in lines]
    assert all(line.split()[1] == "Table" and line.split()[3] in ("PUT", "PATCH", "GET", "MERGE") for line in lines)
    assert summary == {kind: logged.count(kind) for kind in KINDS}, "every fault is logged, once"
    return logged


def test_the_schedule_follows_the_seed_and_every_fault_is_logged(azurite, tmp_path):
    first = faults_for_seed(azurite, tmp_path / "first.log", 7)
    again = faults_for_seed(azurite, tmp_path / "again.log", 7)
    other = faults_for_seed(azurite, tmp_path / "other.log", 8)
    assert len(first) >= 5, first  # 60 requests at ~36%: the faults happened
    assert first == again
    assert other != first
