"""One active run per thread, run steps, and isolation between principals."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.runs.conftest import requests_for, texts, thread_with, token, wait_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def test_one_active_run_per_thread(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"slow {tok}", match=tok, latency_ms=800))
    thread = thread_with(fresh, f"busy thread {tok}")
    run = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    raw = fresh.beta.threads.runs.with_raw_response.retrieve(run.id, thread_id=thread.id)
    assert raw.parse().status in ("queued", "in_progress")
    assert int(raw.headers["openai-poll-after-ms"]) > 0  # the SDK's poll helpers honour it

    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="while active")

    done = fresh.beta.threads.runs.poll(run.id, thread_id=thread.id)
    assert done.status == "completed"
    assert texts(fresh, thread.id) == [("user", f"busy thread {tok}"), ("assistant", f"slow {tok}")]
    assert [r.id for r in fresh.beta.threads.runs.list(thread_id=thread.id).data] == [run.id]
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="after the run")
    assert fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id).status == "completed"


def test_requires_action_still_holds_the_thread(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Bern"}}], match=tok))
    thread = thread_with(fresh, f"hold {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="while waiting")
    fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    wait_for(fresh, thread.id, run.id, "cancelled")


def test_concurrent_run_creates_on_one_thread_exactly_one_wins(fresh, assistant, scripted):
    tok = token()
    # The winner's run stays active while the others arrive, however slowly a loaded machine sends them
    # (a run already ended frees the thread, and a later create rightly wins it).
    scripted.client.enqueue(reply_text(f"won {tok}", match=tok, latency_ms=3000))
    thread = thread_with(fresh, f"race {tok}")
    racers = [openai.OpenAI(base_url=str(fresh.base_url).rstrip("/"), api_key=fresh.api_key, max_retries=0,
                            timeout=60) for _ in range(6)]

    def create(client):
        try:
            return client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        except openai.BadRequestError as error:
            return error

    with ThreadPoolExecutor(len(racers)) as pool:
        outcomes = list(pool.map(create, racers))

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, openai.BadRequestError) and o.status_code == 400 for o in outcomes if o not in winners)
    (winner,) = winners
    assert fresh.beta.threads.runs.poll(winner.id, thread_id=thread.id).status == "completed"
    assert [r.id for r in fresh.beta.threads.runs.list(thread_id=thread.id).data] == [winner.id]
    assert len(requests_for(scripted, tok)) == 1
    assert [role for role, _ in texts(fresh, thread.id)] == ["user", "assistant"]


def test_run_steps_list_and_retrieve(fresh, assistant, scripted):
    tok = token()
    first_usage = {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}
    second_usage = {"prompt_tokens": 60, "completion_tokens": 4, "total_tokens": 64}
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Kyiv"}},
                          {"name": "get_time", "arguments": {"city": "Kyiv"}}], match=tok, usage=first_usage),
        reply_text(f"Warm at noon {tok}", match=tok, usage=second_usage))
    thread = thread_with(fresh, f"Kyiv {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    calls = run.required_action.submit_tool_outputs.tool_calls
    pending = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert [(s.type, s.status) for s in pending] == [("tool_calls", "in_progress")]
    assert [c.function.output for c in pending[0].step_details.tool_calls] == [None, None]

    run = fresh.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": calls[0].id, "output": "warm"}, {"tool_call_id": calls[1].id, "output": "noon"}])
    assert run.status == "completed", run

    steps = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [(s.type, s.status) for s in steps] == [("tool_calls", "completed"), ("message_creation", "completed")]
    tool_step, message_step = steps
    assert all(s.run_id == run.id and s.thread_id == thread.id and s.assistant_id == assistant.id for s in steps)
    assert all(s.object == "thread.run.step" and s.completed_at is not None for s in steps)
    assert [(c.id, c.type, c.function.name, json.loads(c.function.arguments), c.function.output)
            for c in tool_step.step_details.tool_calls] == [
        (calls[0].id, "function", "get_weather", {"city": "Kyiv"}, "warm"),
        (calls[1].id, "function", "get_time", {"city": "Kyiv"}, "noon")]
    assert tool_step.usage.model_dump() == first_usage
    assert message_step.usage.model_dump() == second_usage
    answer = fresh.beta.threads.messages.list(thread_id=thread.id).data[0]
    assert message_step.step_details.message_creation.message_id == answer.id
    assert run.usage.model_dump() == {key: first_usage[key] + second_usage[key] for key in first_usage}

    newest_first = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert [s.id for s in newest_first] == [message_step.id, tool_step.id]
    paged = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc", limit=1)
    assert [s.id for s in paged.data] == [tool_step.id] and paged.has_more
    for step in steps:
        assert fresh.beta.threads.runs.steps.retrieve(step.id, run_id=run.id, thread_id=thread.id) == step
    with pytest.raises(openai.NotFoundError):
        fresh.beta.threads.runs.steps.retrieve("step_" + "0" * 24, run_id=run.id, thread_id=thread.id)


def test_other_principal_sees_404_for_runs_and_steps(fresh, other_client, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Lyon"}}], match=tok))
    thread = thread_with(fresh, f"private {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    (step,) = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id
    runs = other_client.beta.threads.runs

    attempts = {
        "retrieve": lambda: runs.retrieve(run.id, thread_id=thread.id),
        "list": lambda: runs.list(thread_id=thread.id),
        "update": lambda: runs.update(run.id, thread_id=thread.id, metadata={"x": "y"}),
        "cancel": lambda: runs.cancel(run_id=run.id, thread_id=thread.id),
        "submit": lambda: runs.submit_tool_outputs(run_id=run.id, thread_id=thread.id,
                                                   tool_outputs=[{"tool_call_id": call_id, "output": "x"}]),
        "steps.list": lambda: runs.steps.list(run_id=run.id, thread_id=thread.id),
        "steps.retrieve": lambda: runs.steps.retrieve(step.id, run_id=run.id, thread_id=thread.id),
        "create": lambda: runs.create(thread_id=thread.id, assistant_id=assistant.id),
    }
    for name, attempt in attempts.items():
        with pytest.raises(openai.NotFoundError):
            attempt()
            pytest.fail(f"{name} succeeded for another principal")

    still = fresh.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
    assert still.status == "requires_action" and still.metadata == {}
    done = fresh.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call_id, "output": "mine"}])
    assert done.status == "completed"
    assert requests_for(scripted, tok)[-1]["messages"][-1]["content"] == "mine"


def test_create_and_run_holds_its_new_thread_from_the_start(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"answer {tok}", match=tok, latency_ms=800))
    run = fresh.beta.threads.create_and_run(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": f"first {tok}"}]})
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.messages.create(thread_id=run.thread_id, role="user", content="while active")
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.create(thread_id=run.thread_id, assistant_id=assistant.id)
    assert wait_for(fresh, run.thread_id, run.id, "completed").status == "completed"
    assert texts(fresh, run.thread_id) == [("user", f"first {tok}"), ("assistant", f"answer {tok}")]


def test_create_and_run_with_a_thread_too_large_for_one_transaction(fresh, assistant, scripted):
    """Fourteen messages of 220,000 characters (non-ASCII too), each small enough to stay in its row,
    cannot be written with the run in one transaction (4 MiB at most): the thread is written first,
    then the run, and nothing is lost or reordered."""
    tok = token()
    scripted.client.enqueue(reply_text(f"read it all {tok}", match=tok))
    bodies = [f"{index} {tok} " + "é" * 10_000 + "a" * 210_000 for index in range(14)]

    run = fresh.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": body} for body in bodies]})

    assert run.status == "completed", run.last_error
    assert texts(fresh, run.thread_id) == [("user", body) for body in bodies] + [("assistant", f"read it all {tok}")]
    assert [r.id for r in fresh.beta.threads.runs.list(thread_id=run.thread_id).data] == [run.id]
