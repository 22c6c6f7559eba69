"""The storage clients read the environment's proxy and CA settings once, as requests would per call."""

from __future__ import annotations

import pytest
from requests import certs

from core.storage_connection import StorageConnection
from core.table_transport import TableTransport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                   "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("environment, proxy, verify", [
    ({}, None, True),
    ({"HTTPS_PROXY": "http://proxy.example:8080"}, "http://proxy.example:8080", True),
    ({"https_proxy": "http://proxy.example:8080", "no_proxy": ".core.windows.net"}, None, True),
    ({"HTTPS_PROXY": "http://proxy.example:8080", "NO_PROXY": "other.example"}, "http://proxy.example:8080", True),
    ({"REQUESTS_CA_BUNDLE": "/etc/corp-ca.pem", "CURL_CA_BUNDLE": "/etc/other.pem"}, None, "/etc/corp-ca.pem"),
    ({"CURL_CA_BUNDLE": "/etc/other.pem"}, None, "/etc/other.pem"),
])
def test_clients_take_the_environment_settings_once_and_stop_reading_it(clean_environment, environment, proxy, verify):
    for name, value in environment.items():
        clean_environment.setenv(name, value)
    connection = StorageConnection(None, "acct", None)
    blobs = connection.blob_service()._client._client._pipeline._transport
    assert blobs.session.trust_env is False
    assert (blobs.session.proxies.get("https"), blobs.connection_config.verify) == (proxy, verify)
    tables = connection.table_service()._client._client._pipeline._transport
    if proxy is None:  # the lean transport, trusting the CAs requests would
        assert isinstance(tables, TableTransport) and tables.ca_certs == (certs.where() if verify is True else verify)
    else:  # the requests transport, which speaks to proxies
        assert tables.session.trust_env is False
        assert (tables.session.proxies.get("https"), tables.connection_config.verify) == (proxy, verify)



class _Misbehaving:
    """A loopback 'storage account' that answers every request 503 ServerBusy, or resets the connection."""

    def __init__(self, mode: str):
        import http.server
        import socket
        import struct
        import threading

        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if mode == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                body = b'{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"busy"}}}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-ms-error-code", "ServerBusy")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries still counted, their pauses recorded instead of slept."""
    import time

    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    return pauses


@pytest.mark.parametrize("mode", ["busy", "reset"])
@pytest.mark.parametrize("service", ["table", "blob"])
def test_clients_retry_a_misbehaving_account_as_often_as_configured(clean_environment, no_backoff, mode, service):
    """RETRY_TOTAL retries of a 503 or a reset, not azure-core's default 3 per kind of failure."""
    from azure.core.exceptions import AzureError

    from core import storage_connection

    account = _Misbehaving(mode)
    try:
        connection = StorageConnection(storage_connection.azurite_connection_string(
            account.port, account.port, account.port), None, None)
        with pytest.raises(AzureError):
            if service == "table":
                connection.table_service().get_table_client("things").get_entity("p", "r")
            else:
                connection.blob_service().get_blob_client("box", "thing").get_blob_properties()
    finally:
        account.stop()
    assert account.requests == 1 + storage_connection.RETRY_TOTAL
    assert 0 < no_backoff[0] < 1 and max(no_backoff) <= 6 and sum(no_backoff) < 20, no_backoff
