"""Helpers for the HTTP API tests: a fresh principal per test and raw HTTP access."""

from __future__ import annotations

import uuid

import httpx2 as httpx
import openai
import pytest

from tests.conftest import DEFAULT_PRINCIPAL, sdk_client
from tests.support import keys


@pytest.fixture
def fresh_client(devhost) -> openai.OpenAI:
    """An SDK client acting as a principal no other test uses (lists start empty)."""
    return sdk_client(devhost.base_url, f"principal-{uuid.uuid4().hex}")


@pytest.fixture(scope="session")
def http(devhost):
    """Raw HTTP against /v1, for requests the SDK will not send (bad JSON, huge bodies), with the default key."""
    headers = {"Authorization": f"Bearer {keys.key_for(DEFAULT_PRINCIPAL)}"}
    with httpx.Client(base_url=devhost.base_url, timeout=60, headers=headers) as session:
        yield session


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]
