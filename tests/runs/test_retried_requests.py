"""A create, create_and_run or submit_tool_outputs whose answer never reached the client is sent again
(the SDK marks its retries with x-stainless-retry-count): the retry gets what the first attempt began,
the same run, and the run completes once; nothing is created twice (api/runs.py).

Two ways to lose the answer deterministically: the very request replayed with the SDK's retry mark
(the first attempt finished; its answer is what was lost), and the first attempt cut by a SIGKILL of the
service after its rows committed and before its orchestration was stored (the storage fault proxy holds
that one write back while the test kills devhost)."""

from __future__ import annotations

import threading
import uuid

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import WEATHER, make_assistant, thread_with, token, wait_for, wait_until
from tests.support.devhost_proc import ROOT, DevhostProcess
from tests.support.storage_faults import FaultRates, StorageFaultProxy

RETRY = {"x-stainless-retry-count": "1"}


def _answers(api, thread_id: str, run_id: str) -> list:
    return [m for m in api.beta.threads.messages.list(thread_id=thread_id, limit=100)
            if m.role == "assistant" and m.run_id == run_id]


def test_a_retried_create_gets_the_run_its_first_attempt_made(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", latency_ms=300, match=tok))
    assistant = make_assistant(fresh)
    thread = thread_with(fresh, f"question {tok}")
    first = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    again = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, extra_headers=RETRY)
    assert again.id == first.id
    done = wait_for(fresh, thread.id, first.id, "completed")
    assert [r.id for r in fresh.beta.threads.runs.list(thread_id=thread.id)] == [done.id]
    assert len(_answers(fresh, thread.id, done.id)) == 1


def test_the_same_create_not_marked_as_a_retry_is_refused_while_the_run_is_active(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"slow {tok}", latency_ms=1500, match=tok))
    assistant = make_assistant(fresh)
    thread = thread_with(fresh, f"question {tok}")
    first = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(fresh, thread.id, first.id, "completed")


def test_a_retried_create_and_run_makes_no_second_thread_or_run(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", latency_ms=300, match=tok))
    assistant = make_assistant(fresh)
    body = {"assistant_id": assistant.id, "thread": {"messages": [{"role": "user", "content": f"question {tok}"}]}}
    first = fresh.beta.threads.create_and_run(**body)
    again = fresh.beta.threads.create_and_run(**body, extra_headers=RETRY)
    assert (again.id, again.thread_id) == (first.id, first.thread_id)
    done = wait_for(fresh, first.thread_id, first.id, "completed")
    assert [r.id for r in fresh.beta.threads.runs.list(thread_id=first.thread_id)] == [done.id]
    messages = list(fresh.beta.threads.messages.list(thread_id=first.thread_id, order="asc"))
    assert [m.role for m in messages] == ["user", "assistant"]
    # an identical request that is not a retry is a new thread and run, as at OpenAI
    scripted.client.enqueue(reply_text(f"second {tok}", match=tok))
    other = fresh.beta.threads.create_and_run(**body)
    assert other.thread_id != first.thread_id
    wait_for(fresh, other.thread_id, other.id, "completed")


def test_a_retried_submit_tool_outputs_continues_the_run_once(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Faro"}}], match=tok))
    scripted.client.enqueue(reply_text(f"sunny in Faro {tok}", latency_ms=300, match=tok))
    thread = thread_with(fresh, f"weather {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id,
                                                  assistant_id=make_assistant(fresh, tools=[WEATHER]).id)
    assert run.status == "requires_action", run
    outputs = [{"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "sunny"}]
    first = fresh.beta.threads.runs.submit_tool_outputs(run_id=run.id, thread_id=thread.id, tool_outputs=outputs)
    again = fresh.beta.threads.runs.submit_tool_outputs(run_id=run.id, thread_id=thread.id, tool_outputs=outputs,
                                                        extra_headers=RETRY)
    assert again.id == first.id == run.id
    done = wait_for(fresh, thread.id, run.id, "completed")
    assert len(_answers(fresh, thread.id, done.id)) == 1
    steps = list(fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc"))
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    assert steps[0].step_details.tool_calls[0].function.output == "sunny"


# -- the first attempt cut by a SIGKILL after its rows committed --------------------------------------


@pytest.fixture
def faulty_devhost(azurite, scripted, tmp_path):
    """devhost whose storage traffic passes a fault proxy that injects only what a test plans."""
    proxy = StorageFaultProxy(azurite.ports, FaultRates(delay_seconds=(60.0, 60.0)), seed=1)
    host = DevhostProcess(ROOT, devhost_env(azurite, scripted, AzureWebJobsStorage=proxy.connection_string,
                                            DURABLE_TASK_HUB=f"retry{uuid.uuid4().hex[:8]}"),
                          tmp_path / "devhost.log").start(timeout=120)
    yield host, proxy
    host.stop()
    proxy.stop()


def _cut_before_the_orchestration_is_stored(host, proxy, send, instance: str = "run_") -> str:
    """`send` (the first attempt, answered never) runs until the first save of an orchestration whose
    instance id starts with `instance` reaches the storage proxy, which holds it back; then devhost is
    SIGKILLed and restarted. Returns the instance id (the instance blob's name): the run id the first
    attempt chose, or its ingestion's."""
    held = threading.Event()
    seen: list[str] = []

    def instance_save(service, method, path):
        if service == "Blob" and method == "PUT" and f"/{instance}" in path:
            seen.append(instance + path.split(f"/{instance}", 1)[1].split("?", 1)[0])
            held.set()
            return True
        return False

    proxy.plan("delay", instance_save)
    errors: list[Exception] = []

    def first_attempt():
        try:
            send()
        except openai.APIError as error:
            errors.append(error)

    attempt = threading.Thread(target=first_attempt, daemon=True)
    attempt.start()
    assert held.wait(60), host.log()
    host.kill()
    attempt.join(30)
    assert errors, "the first attempt was answered"
    host.start(timeout=120)
    return seen[0]


def test_a_create_cut_before_its_orchestration_started_is_started_by_the_retry(faulty_devhost, scripted):
    host, proxy = faulty_devhost
    api = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", match=tok))
    assistant = make_assistant(api)
    thread = thread_with(api, f"question {tok}")
    chosen = _cut_before_the_orchestration_is_stored(
        host, proxy, lambda: api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id))
    [stored] = api.beta.threads.runs.list(thread_id=thread.id)  # the first attempt's rows committed
    assert stored.id == chosen and stored.status == "queued"
    again = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, extra_headers=RETRY)
    assert again.id == stored.id
    done = wait_for(api, thread.id, again.id, "completed", timeout=60)
    assert len(_answers(api, thread.id, done.id)) == 1
    assert [r.id for r in api.beta.threads.runs.list(thread_id=thread.id)] == [done.id]


def test_a_create_and_run_cut_before_its_orchestration_started_is_started_by_the_retry(faulty_devhost, scripted):
    host, proxy = faulty_devhost
    api = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", match=tok))
    assistant = make_assistant(api)
    body = {"assistant_id": assistant.id, "thread": {"messages": [{"role": "user", "content": f"question {tok}"}]}}
    chosen = _cut_before_the_orchestration_is_stored(host, proxy, lambda: api.beta.threads.create_and_run(**body))
    again = api.beta.threads.create_and_run(**body, extra_headers=RETRY)
    assert again.id == chosen  # the first attempt's run (and so its thread), not a second one
    done = wait_for(api, again.thread_id, again.id, "completed", timeout=60)
    assert [r.id for r in api.beta.threads.runs.list(thread_id=again.thread_id)] == [done.id]
    messages = list(api.beta.threads.messages.list(thread_id=again.thread_id, order="asc"))
    assert [m.role for m in messages] == ["user", "assistant"]


def test_a_create_and_run_cut_after_making_its_inline_vector_store_finds_that_store_on_retry(faulty_devhost,
                                                                                             scripted):
    host, proxy = faulty_devhost
    api = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    tok = token()
    scripted.client.enqueue(reply_text(f"one answer {tok}", match=tok))
    note = api.files.create(file=("note.txt", b"The lighthouse keeper's cat is called Biscuit."), purpose="assistants")
    assistant = make_assistant(api, tools=[{"type": "file_search"}])
    body = {"assistant_id": assistant.id, "thread": {
        "messages": [{"role": "user", "content": f"question {tok}"}],
        "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [note.id]}]}}}}
    # the first attempt made the store and attached the file; its ingestion, thread and run were never stored
    ingestion = _cut_before_the_orchestration_is_stored(
        host, proxy, lambda: api.beta.threads.create_and_run(**body), instance="ingest-")
    [made] = api.vector_stores.list()
    assert ingestion == f"ingest-{made.id}"
    again = api.beta.threads.create_and_run(**body, extra_headers=RETRY)
    assert [store.id for store in api.vector_stores.list()] == [made.id]  # found, not made twice
    thread = api.beta.threads.retrieve(again.thread_id)
    assert thread.tool_resources.file_search.vector_store_ids == [made.id]
    wait_until(lambda: api.vector_stores.files.retrieve(note.id, vector_store_id=made.id).status != "in_progress",
               timeout=60, what="the note ingested")
    assert api.vector_stores.files.retrieve(note.id, vector_store_id=made.id).status == "completed"
    assert [file.id for file in api.vector_stores.files.list(made.id)] == [note.id]
    wait_for(api, again.thread_id, again.id, "completed", timeout=60)


@pytest.mark.parametrize("has_files, made_now, started, expected", [
    (True, True, False, True),     # a store made now: its files are attached and ingested
    (True, False, False, True),    # made by an earlier attempt that stopped before starting the ingestion
    (True, False, True, False),    # made and ingesting already: nothing twice
    (False, True, False, False),   # nothing to ingest
])
def test_an_inline_store_is_ingested_again_only_when_its_ingestion_never_started(has_files, made_now, started,
                                                                                 expected):
    from usecases.file_search_resources import ingests_again

    assert ingests_again(has_files, made_now, started) is expected
