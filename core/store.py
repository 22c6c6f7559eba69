"""The app's handle on Azure Storage: shared service clients, tables and containers created once.

Service clients are thread-safe and expensive to build, so one `Store` lives per
process. A table or container is created the first time this process touches
it (idempotently), never on every request.
"""

from __future__ import annotations

import threading
from functools import cached_property

from azure.core.exceptions import ResourceExistsError, ServiceResponseError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient

from core import storage_connection
from core.storage_connection import StorageConnection


class Store:
    def __init__(self, connection: StorageConnection):
        self._connection = connection
        self._lock = threading.Lock()
        self._tables: dict[str, TableClient] = {}
        self._containers: dict[str, ContainerClient] = {}

    @cached_property
    def table_service(self) -> TableServiceClient:
        return self._connection.table_service()

    @cached_property
    def blob_service(self) -> BlobServiceClient:
        return self._connection.blob_service()

    def table(self, name: str) -> TableClient:
        client = self._tables.get(name)
        if client is None:
            with self._lock:
                client = self._tables.get(name)
                if client is None:
                    client = self._create_table(name)
                    self._tables[name] = client
        return client

    def _create_table(self, name: str, attempts: int = 5) -> TableClient:
        """Create the table if it is missing. Its POST is not retried by the library when the answer
        is lost, but "if not exists" makes sending it again harmless."""
        for attempt in range(attempts):
            try:
                return self.table_service.create_table_if_not_exists(name)
            except ServiceResponseError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def container(self, name: str) -> ContainerClient:
        client = self._containers.get(name)
        if client is None:
            with self._lock:
                client = self._containers.get(name)
                if client is None:
                    client = self.blob_service.get_container_client(name)
                    try:
                        client.create_container()
                    except ResourceExistsError:
                        pass
                    self._containers[name] = client
        return client


_default: Store | None = None
_default_lock = threading.Lock()


def default_store() -> Store:
    """The process-wide store, built from the app settings on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Store(storage_connection.from_settings())
    return _default
