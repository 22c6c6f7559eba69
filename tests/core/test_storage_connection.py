"""The storage clients read the environment's proxy and CA settings once, as requests would per call."""

from __future__ import annotations

import pytest

from core.storage_connection import StorageConnection

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
    for client in (connection.table_service(), connection.blob_service()):
        transport = client._client._client._pipeline._transport
        assert transport.session.trust_env is False
        assert transport.session.proxies.get("https") == proxy
        assert transport.connection_config.verify == verify


