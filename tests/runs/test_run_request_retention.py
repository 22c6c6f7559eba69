"""What a create_and_run records for its retries (core/repositories/run_requests.py) lives only as long as
a retry may come: within RUN_RETRY_WINDOW_SECONDS a retried request still gets the run its first attempt
made; past it the run sweeper deletes the record, and the table does not grow with every request served."""

from __future__ import annotations

import time
import uuid

import pytest
from azure.data.tables import TableClient

from core.ownership import owner_partition
from core.repositories.run_requests import TABLE
from core.run_sweep import forget_requests_before
from scripted_model import reply_text
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import make_assistant, token, wait_for, wait_until
from tests.support.devhost_proc import ROOT, DevhostProcess

RETRY = {"x-stainless-retry-count": "1"}
WINDOW = 6


@pytest.fixture(scope="module")
def retaining_host(azurite, scripted, tmp_path_factory):
    """devhost whose retry window is WINDOW seconds, sweeping every second."""
    env = devhost_env(azurite, scripted, RUN_SWEEP_SCHEDULE="* * * * * *", RUN_RETRY_WINDOW_SECONDS=str(WINDOW))
    host = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("retention") / "devhost.log").start(timeout=120)
    yield host
    host.stop()


def _rows(azurite, principal: str) -> list[dict]:
    table = TableClient.from_connection_string(azurite.connection_string, TABLE)
    return list(table.query_entities("PartitionKey eq @p", parameters={"p": owner_partition(principal)}))


def test_the_record_of_a_create_and_run_serves_its_retries_then_is_deleted(retaining_host, azurite, scripted):
    principal = f"retention-{uuid.uuid4().hex}"
    api = sdk_client(retaining_host.base_url, principal)
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", match=tok))
    body = {"assistant_id": make_assistant(api).id,
            "thread": {"messages": [{"role": "user", "content": f"question {tok}"}]}}
    first = api.beta.threads.create_and_run(**body)
    again = api.beta.threads.create_and_run(**body, extra_headers=RETRY)  # within the window
    assert (again.id, again.thread_id) == (first.id, first.thread_id)
    [row] = _rows(azurite, principal)
    assert (row["thread_id"], row["run_id"]) == (first.thread_id, first.id)
    wait_for(api, first.thread_id, first.id, "completed")

    wait_until(lambda: not _rows(azurite, principal), timeout=WINDOW + 20, what="the request's record deleted")
    assert time.time() - row["created_at"] >= WINDOW  # not before its window was over
    assert [r.id for r in api.beta.threads.runs.list(thread_id=first.thread_id)] == [first.id]  # the run stays

    # past the window a retry is not led to the old run: it is a request of its own
    scripted.client.enqueue(reply_text(f"second {tok}", match=tok))
    late = api.beta.threads.create_and_run(**body, extra_headers=RETRY)
    assert late.thread_id != first.thread_id
    wait_for(api, late.thread_id, late.id, "completed")


def test_a_record_is_forgotten_once_a_retry_would_ignore_it():
    assert forget_requests_before(now=10_000, retry_window=600) == 9_400
