"""The table clients' transport (core.table_transport): answers read whole, errors classified as azure-core's
requests transport classifies them (the retry policies and core.transactions rely on the classes)."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from azure.core.exceptions import (
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.data.tables import TableServiceClient
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from core.storage_connection import AZURITE_KEY, StorageConnection
from core.table_transport import TableTransport, classified


@pytest.mark.parametrize("raised, expected", [
    (NewConnectionError(None, "refused"), ServiceRequestError),
    (NameResolutionError("h", None, socket.gaierror()), ServiceRequestError),
    (ConnectTimeoutError("slow to connect"), ServiceRequestTimeoutError),
    (ReadTimeoutError(None, "/", "slow to answer"), ServiceResponseTimeoutError),
    (SSLError("bad certificate"), ServiceRequestError),
    (ProxyError("proxy refused", None), ServiceRequestError),
    (ProtocolError("Connection aborted.", ConnectionResetError()), ServiceResponseError),
], ids=["refused", "unresolved", "connect-timeout", "read-timeout", "tls", "proxy", "reset"])
def test_urllib3_errors_are_classified_as_the_requests_transport_does(raised, expected):
    error = classified(raised)
    assert type(error) is expected and error.inner_exception is raised


def test_the_apps_table_clients_use_it_and_read_whole_answers(azurite):
    service = StorageConnection(azurite.connection_string, None, None).table_service()
    assert isinstance(service._client._client._pipeline._transport, TableTransport)
    table = service.create_table_if_not_exists(f"t{uuid.uuid4().hex[:12]}")
    text = "Grüße, 世界 — " * 500
    table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "text": text})
    assert table.get_entity("p", "r")["text"] == text
    assert [e["RowKey"] for e in table.query_entities("PartitionKey eq 'p'")] == ["r"]
    with pytest.raises(ResourceNotFoundError):
        table.get_entity("p", "missing")


def _client(port: int) -> TableServiceClient:
    account = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};" \
              f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    return TableServiceClient.from_connection_string(account, transport=TableTransport(pool_maxsize=2), retry_total=0)


def test_a_refused_connection_is_a_request_error():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again before the request: nothing listens
    with pytest.raises(ServiceRequestError):
        _client(port).get_table_client("t").get_entity("p", "r")


def test_an_answer_that_never_comes_is_a_response_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        with pytest.raises(ServiceResponseTimeoutError):
            _client(listener.getsockname()[1]).get_table_client("t").get_entity("p", "r", read_timeout=0.3)
    finally:
        for connection in accepted:
            connection.close()
        listener.close()
