"""Containers tests: a fresh principal per test, raw HTTP as it, and the session's Azurite as a store."""

from __future__ import annotations

import uuid

import httpx2 as httpx
import openai
import pytest

from core.storage_connection import StorageConnection
from core.store import Store
from tests.conftest import sdk_client


@pytest.fixture
def fresh(devhost) -> openai.OpenAI:
    """An SDK client acting as a principal no other test uses (its lists start empty)."""
    return sdk_client(devhost.base_url, f"principal-{uuid.uuid4().hex}")


@pytest.fixture
def raw(devhost, fresh):
    """Raw HTTP under /v1 as `fresh`, for bodies the SDK will not send."""
    with httpx.Client(base_url=devhost.base_url, timeout=60,
                      headers={"Authorization": f"Bearer {fresh.api_key}"}) as session:
        yield session


@pytest.fixture(scope="session")
def store(azurite) -> Store:
    return Store(StorageConnection(azurite.connection_string, None, None))
