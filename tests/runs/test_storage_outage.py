"""A storage outage that outlasts every retry ends the run `failed`, saying why, and frees its thread.

The storage fault proxy resets every write to Table storage (where runs, steps, messages and event logs
live) while the outage lasts; reads pass, so clients still see the run. The outage is lifted once the
run's orchestration has given up on the step it could not save (its activity failed past its retries,
as devhost's log shows): then either the orchestration's own ending is stored, or, when that too
failed, the run sweeper ends the run its orchestration no longer moves.
"""

from __future__ import annotations

import threading
import time
import uuid

import openai
import pytest

from scripted_model import reply_text
from tests.chaos.soak import RUN_END_EVENTS, _event_log
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import make_assistant, texts, thread_with, token, wait_for
from tests.support.devhost_proc import ROOT, DevhostProcess
from tests.support.storage_faults import FaultRates, StorageFaultProxy

ACTIVITY_ATTEMPTS = 3  # orchestrators.runs.ACTIVITY_RETRY


@pytest.fixture(scope="module")
def outage_host(azurite, scripted, tmp_path_factory):
    """devhost behind a fault proxy with nothing injected but what a test plans, sweeping every second."""
    proxy = StorageFaultProxy(azurite.ports, FaultRates(), seed=3)
    env = devhost_env(azurite, scripted, AzureWebJobsStorage=proxy.connection_string,
                      DURABLE_TASK_HUB=f"outage{uuid.uuid4().hex[:8]}", RUN_SWEEP_SCHEDULE="* * * * * *",
                      RUN_SWEEP_GRACE_SECONDS="3")
    host = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("outage") / "devhost.log").start(timeout=120)
    yield host, proxy
    host.stop()
    proxy.stop()


class Outage:
    """Every Table write reset before it reaches Azurite, from `begin()` until `end()`."""

    def __init__(self, proxy: StorageFaultProxy):
        self._on = threading.Event()
        proxy.plan("reset", lambda service, method, path: self._on.is_set() and service == "Table"
                   and method not in ("GET", "HEAD"), times=10 ** 9)

    def begin(self) -> None:
        self._on.set()

    def end(self) -> None:
        self._on.clear()


def _failures(host: DevhostProcess, activity: str, run_id: str) -> int:
    return host.log().count(f"activity {activity} of {run_id} raised")


def _until_given_up(host: DevhostProcess, activity: str, run_id: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while _failures(host, activity, run_id) < ACTIVITY_ATTEMPTS:
        assert time.monotonic() < deadline, host.log()[-4000:]
        time.sleep(0.05)


def _run_under_outage(host, proxy, scripted):
    api = sdk_client(host.base_url, f"outage-{uuid.uuid4().hex}")
    tok = token()
    scripted.client.enqueue(*[reply_text(f"never saved {tok}", latency_ms=400, match=tok)
                              for _ in range(ACTIVITY_ATTEMPTS)])
    assistant = make_assistant(api)
    thread = thread_with(api, f"question {tok}")
    outage = Outage(proxy)
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    outage.begin()
    return api, thread, run, outage, assistant


def _thread_is_free(api, scripted, thread, assistant) -> None:
    tok = token()
    api.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"again {tok}")
    scripted.client.enqueue(reply_text(f"fine {tok}", match=tok))
    again = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert again.status == "completed", again


def test_a_turn_that_cannot_be_saved_fails_the_run_honestly(outage_host, scripted):
    host, proxy = outage_host
    api, thread, run, outage, assistant = _run_under_outage(host, proxy, scripted)
    try:
        _until_given_up(host, "run_model_turn", run.id)
    finally:
        outage.end()  # the orchestration's ending (run_finish, retried) now reaches storage

    ended = wait_for(api, thread.id, run.id, "failed", timeout=60)
    assert ended.last_error.code == "server_error", ended
    message = ended.last_error.message
    assert "kept failing" in message and "Traceback" not in message and len(message) < 400, message
    assert ended.failed_at is not None and ended.completed_at is None
    assert [role for role, _ in texts(api, thread.id)] == ["user"]  # no answer half-stored
    log = _event_log(api, thread.id, run.id)
    assert [name for _, name in log if name in RUN_END_EVENTS] == ["thread.run.failed"], log
    assert [number for number, _ in log] == list(range(log[0][0], log[0][0] + len(log))), log
    _thread_is_free(api, scripted, thread, assistant)


def test_a_run_whose_ending_cannot_be_saved_is_ended_by_the_sweeper(outage_host, scripted):
    host, proxy = outage_host
    api, thread, run, outage, assistant = _run_under_outage(host, proxy, scripted)
    try:
        _until_given_up(host, "run_model_turn", run.id)
        _until_given_up(host, "run_finish", run.id)  # the orchestration failed, leaving its run active
        assert api.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status in ("queued", "in_progress")
    finally:
        outage.end()

    ended = wait_for(api, thread.id, run.id, "failed", timeout=60)
    assert ended.last_error.code == "server_error", ended
    assert "orchestration ended" in ended.last_error.message, ended.last_error
    assert "purged" not in ended.last_error.message, ended.last_error
    _thread_is_free(api, scripted, thread, assistant)


def test_a_create_refused_by_the_outage_answers_500_and_writes_nothing(outage_host, scripted):
    host, proxy = outage_host
    api = sdk_client(host.base_url, f"outage-{uuid.uuid4().hex}")
    assistant = make_assistant(api)
    thread = thread_with(api, f"question {token()}")
    outage = Outage(proxy)
    outage.begin()
    try:
        with pytest.raises(openai.InternalServerError) as caught:
            api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    finally:
        outage.end()
    assert caught.value.body["type"] == "server_error", caught.value.body
    assert list(api.beta.threads.runs.list(thread_id=thread.id)) == []  # no run row, the thread not claimed
    _thread_is_free(api, scripted, thread, assistant)
