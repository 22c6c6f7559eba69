"""Helpers for the vector store tests: a strict SDK client per test, uploads, waiting for ingestion."""

from __future__ import annotations

import time
import uuid

import openai
import pytest


def strict_client(base_url: str, principal: str | None = None) -> openai.OpenAI:
    headers = {"X-MS-CLIENT-PRINCIPAL-ID": principal or f"principal-{uuid.uuid4().hex}"}
    return openai.OpenAI(base_url=base_url, api_key="local", max_retries=0, timeout=60, default_headers=headers,
                         _strict_response_validation=True)


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
