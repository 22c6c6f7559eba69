"""Core tests talk to the session's Azurite directly, without devhost."""

from __future__ import annotations

import uuid

import pytest

from core.storage_connection import StorageConnection
from core.store import Store


@pytest.fixture(scope="session")
def store(azurite) -> Store:
    return Store(StorageConnection(azurite.connection_string, None, None))


@pytest.fixture
def principal() -> str:
    """A fresh principal per test, so tests never see each other's records."""
    return f"user-{uuid.uuid4().hex}"
