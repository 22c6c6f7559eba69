"""How the app reaches Azure Storage: one connection, as the Functions host configures it.

Locally `AzureWebJobsStorage` is a connection string (Azurite). In Azure it is
identity-based: `AzureWebJobsStorage__accountName` (+ `__clientId` for a
user-assigned identity), and the service clients authenticate with managed identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import settings

if TYPE_CHECKING:  # the SDKs are imported where they are used: they cost start-up time
    from azure.core.credentials import TokenCredential
    from azure.core.pipeline.transport import HttpTransport, RequestsTransport
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

# Azurite's documented, public development account (not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
DOWNLOAD_CHUNK_BYTES = 4 * 1024 * 1024
POOL_CONNECTIONS = 64
# Retries of a busy or unreachable storage account. The Blob SDK's default waits 15 s, then 60 s, after
# a single 503 or reset connection (a run's write stalls for over a minute); these wait fractions of a
# second first and grow, about 11 s in all before the error surfaces.
# azure-core's retry policies stop at whichever count runs out first: besides retry_total they keep
# separate counts of connection errors, read errors and retryable statuses, each 3 unless given, so
# retry_total alone never allowed more than 3 retries of a 503 or a reset. Every count is set here.
RETRY_TOTAL = 6
RETRY_COUNTS: dict[str, Any] = {"retry_total": RETRY_TOTAL, "retry_connect": RETRY_TOTAL, "retry_read": RETRY_TOTAL,
                "retry_status": RETRY_TOTAL}
TABLE_RETRY: dict[str, Any] = {**RETRY_COUNTS, "retry_backoff_factor": 0.2, "retry_backoff_max": 5}  # 0, 0.4, 0.8, ... 5 s


BACKOFF_FIRST_SECONDS, BACKOFF_MAX_SECONDS = 0.2, 5.0


def _blob_retry() -> ExponentialRetry:
    """The Blob SDK's ExponentialRetry waits `initial + base ** n` with no cap (n from 1), so six retries at
    any base that starts small grow to a minute; this doubles from BACKOFF_FIRST_SECONDS up to the cap,
    with the library's jitter, as the table clients' policy does (about 11 s over six retries)."""
    import random

    from azure.storage.blob import ExponentialRetry

    class CappedExponentialRetry(ExponentialRetry):
        def get_backoff_time(self, settings: dict[str, Any]) -> float:
            backoff = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, settings["count"] - 1))
            return random.uniform(backoff * 0.8, backoff * 1.2)

    # (the stub types both as int; they are seconds, and get_backoff_time above makes its own waits anyway)
    return CappedExponentialRetry(initial_backoff=BACKOFF_FIRST_SECONDS, random_jitter_range=0.0,  # type: ignore[arg-type]
                                  **RETRY_COUNTS)
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_connection_string(blob_port: int = 10000, queue_port: int = 10001, table_port: int = 10002) -> str:
    base = "http://127.0.0.1"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={base}:{blob_port}/{AZURITE_ACCOUNT};"
        f"QueueEndpoint={base}:{queue_port}/{AZURITE_ACCOUNT};"
        f"TableEndpoint={base}:{table_port}/{AZURITE_ACCOUNT};"
    )


@dataclass(frozen=True)
class StorageConnection:
    """Either a connection string or an account name + managed identity."""

    connection_string: str | None
    account_name: str | None
    client_id: str | None

    def table_service(self) -> TableServiceClient:
        from azure.data.tables import TableServiceClient

        url = (table_endpoint(self.connection_string) if self.connection_string
               else f"https://{self.account_name}.table.core.windows.net")
        transport = table_transport(url)
        if self.connection_string:
            return TableServiceClient.from_connection_string(self.connection_string, transport=transport, **TABLE_RETRY)
        return TableServiceClient(url, credential=self._credential(), transport=transport, **TABLE_RETRY)

    def blob_service(self) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        # Downloads come in 4 MiB pieces (the SDK's first GET would otherwise be 32 MiB),
        # so streaming a file to a client holds one piece at a time.
        transport = _pooled_transport()
        sizes: dict[str, Any] = {"max_single_get_size": DOWNLOAD_CHUNK_BYTES, "max_chunk_get_size": DOWNLOAD_CHUNK_BYTES,
                                 "transport": transport, "retry_policy": _blob_retry()}
        if self.connection_string:
            client = BlobServiceClient.from_connection_string(self.connection_string, **sizes)
        else:
            client = BlobServiceClient(f"https://{self.account_name}.blob.core.windows.net",
                                       credential=self._credential(), **sizes)
        _settled(transport, _environment(client.url))
        return client

    def _credential(self) -> TokenCredential:
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

        if self.client_id:
            return ManagedIdentityCredential(client_id=self.client_id)
        return DefaultAzureCredential()


def _pooled_transport() -> RequestsTransport:
    """An HTTP transport whose connection pool matches the worker's concurrency.

    The SDK's default keeps 10 connections; with dozens of activity and HTTP threads the
    rest are opened and discarded on every request, which costs more than the request.
    """
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_CONNECTIONS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=False)


def _environment(url: str) -> dict[str, Any]:
    """The environment's proxy and CA settings for `url`, as `requests` reads them (proxies, no_proxy,
    REQUESTS_CA_BUNDLE, ...): read once per client, not on every request as requests would (a sixth of
    the CPU of a point read)."""
    import requests

    return requests.Session().merge_environment_settings(url, {}, None, None, None)


def table_endpoint(connection_string: str) -> str:
    from azure.data.tables import TableServiceClient

    return TableServiceClient.from_connection_string(connection_string).url


def table_transport(url: str) -> HttpTransport[Any, Any]:
    """core.table_transport for the account's table endpoint, trusting the CAs requests would (its CA
    bundle, or the one the environment names); where a proxy is configured for it, the requests
    transport, which speaks to proxies."""
    from requests import certs

    from core.table_transport import TableTransport

    found: dict[str, Any] = _environment(url)
    if found["proxies"]:
        speaks_to_proxies: HttpTransport[Any, Any] = _settled(_pooled_transport(), found)
        return speaks_to_proxies
    return TableTransport(pool_maxsize=POOL_CONNECTIONS,
                          ca_certs=found["verify"] if isinstance(found["verify"], str) else certs.where())


def _settled(transport: RequestsTransport, found: dict[str, Any]) -> RequestsTransport:
    """`transport` with the environment settings `found` handed to it; its session no longer looks."""
    transport.session.trust_env = False
    transport.session.proxies.update(found["proxies"])
    transport.connection_config.verify = found["verify"]
    return transport


def from_settings() -> StorageConnection:
    raw = settings.get("AzureWebJobsStorage")
    if raw == "UseDevelopmentStorage=true":
        raw = azurite_connection_string()
    account = settings.get("AzureWebJobsStorage__accountName")
    if account:
        return StorageConnection(None, account, settings.get("AzureWebJobsStorage__clientId"))
    return StorageConnection(raw, None, None)
