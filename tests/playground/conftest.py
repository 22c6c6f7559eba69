"""The playground's URL on the test devhost."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from devhost.launcher import playground_url
from tests.support.devhost_proc import ROOT


@pytest.fixture(scope="session")
def page_url(devhost) -> str:
    return playground_url(devhost.root_url, ROOT / "host.json")


@pytest.fixture(scope="session")
def server_streams(devhost, client) -> bool:
    """Whether this server streams runs: a `stream: true` run on no thread is refused for `stream` (400)
    by a server that does not stream, and for the unknown thread (404) by one that does."""
    response = httpx.post(f"{devhost.base_url}/threads/thread_none/runs", json={"assistant_id": "asst_none", "stream": True},
                          headers={"Authorization": f"Bearer {client.api_key}"}, timeout=30)
    assert response.status_code in (400, 404), response.text
    return response.status_code == 404
