"""The storage clients read the environment's proxy and CA settings once, as requests would per call."""

from __future__ import annotations

import pytest

from core.storage_connection import StorageConnection, environment_settings

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                   "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
ACCOUNT_URL = "https://acct.table.core.windows.net/"


@pytest.fixture
def clean_environment(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("environment, proxies, verify", [
    ({}, {}, True),
    ({"HTTPS_PROXY": "http://proxy.example:8080"}, {"https": "http://proxy.example:8080"}, True),
    ({"https_proxy": "http://proxy.example:8080", "no_proxy": ".core.windows.net"}, {}, True),
    ({"HTTPS_PROXY": "http://proxy.example:8080", "NO_PROXY": "other.example"},
     {"https": "http://proxy.example:8080"}, True),
    ({"REQUESTS_CA_BUNDLE": "/etc/corp-ca.pem", "CURL_CA_BUNDLE": "/etc/other.pem"}, {}, "/etc/corp-ca.pem"),
    ({"CURL_CA_BUNDLE": "/etc/other.pem"}, {}, "/etc/other.pem"),
])
def test_environment_settings_are_what_requests_would_read(clean_environment, environment, proxies, verify):
    for name, value in environment.items():
        clean_environment.setenv(name, value)
    found_proxies, found_verify = environment_settings(ACCOUNT_URL)
    assert {scheme: url for scheme, url in found_proxies.items() if scheme == "https"} == proxies
    assert found_verify == verify


def test_clients_carry_the_settings_and_stop_reading_the_environment(clean_environment):
    clean_environment.setenv("HTTPS_PROXY", "http://proxy.example:8080")
    clean_environment.setenv("REQUESTS_CA_BUNDLE", "/etc/corp-ca.pem")
    connection = StorageConnection(None, "acct", None)
    for client in (connection.table_service(), connection.blob_service()):
        transport = client._client._client._pipeline._transport
        assert transport.session.trust_env is False
        assert transport.session.proxies["https"] == "http://proxy.example:8080"
        assert transport.connection_config.verify == "/etc/corp-ca.pem"
