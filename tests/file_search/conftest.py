"""Helpers for the vector store tests: a strict SDK client per test, uploads, waiting for ingestion."""

from __future__ import annotations

import time
import uuid

import openai
import pytest

from tests.conftest import DEFAULT_PRINCIPAL, sdk_client
from tests.support import keys


def strict_client(base_url: str, principal: str | None = None) -> openai.OpenAI:
    """A strictly validating SDK client with a key of its own; `.principal` names who it acts as."""
    principal = principal or f"principal-{uuid.uuid4().hex}"
    client = sdk_client(base_url, principal)
    client.principal = principal
    return client


def auth_headers(client: openai.OpenAI | None = None) -> dict[str, str]:
    """Credentials for raw HTTP calls: the client's key, or the suite's default principal's."""
    return {"Authorization": f"Bearer {client.api_key if client else keys.key_for(DEFAULT_PRINCIPAL)}"}


@pytest.fixture
def sdk(devhost) -> openai.OpenAI:
    """A strictly validating SDK client acting as a principal no other test uses."""
    return strict_client(devhost.base_url)


def upload(client: openai.OpenAI, name: str, data: bytes | str):
    return client.files.create(file=(name, data.encode() if isinstance(data, str) else data), purpose="assistants")


def wait_file(client: openai.OpenAI, store_id: str, file_id: str, timeout: float = 60.0):
    """Poll until the store file leaves in_progress; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        record = client.vector_stores.files.retrieve(file_id, vector_store_id=store_id)
        if record.status != "in_progress":
            return record
        assert time.monotonic() < deadline, f"{file_id} still in progress"
        time.sleep(0.1)
