"""A run's first turn, in the process that created it, starts from the run and its log head as the create
stored them: it reads neither back (core.repositories.fresh_runs; tests/core/test_fresh_runs.py shows a run
changed elsewhere since is still honoured)."""

from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest

from core import ids
from scripted_model import reply_text
from tests.conftest import sdk_client
from tests.runs.conftest import MODEL, token
from tests.support.counted_host import counted_devhost


@pytest.fixture(scope="module")
def counted_host(azurite, scripted, tmp_path_factory):
    with counted_devhost(azurite, scripted, tmp_path_factory.mktemp("first")) as (host, _, seen):
        yield host, seen


def test_the_first_turn_reads_neither_its_run_nor_its_log_head(counted_host, scripted):
    host, seen = counted_host
    client = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    assistant = client.beta.assistants.create(model=MODEL)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "hello"}])
    tok = token()
    scripted.client.enqueue(reply_text("Hi.", match=tok))
    start = len(seen)
    run = client.beta.threads.runs.create(thread.id, assistant_id=assistant.id, additional_instructions=tok)
    deadline = time.monotonic() + 30
    while not [m for m in client.beta.threads.messages.list(thread.id).data if m.role == "assistant"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    reads = [urllib.parse.unquote(path) for service, method, path in seen[start:] if service == "Table" and method == "GET"]
    body = ids.body(run.id)
    assert reads and not [path for path in reads if f"run-a-{body}" in path or f"evt.{body}.head" in path], reads
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "completed"
