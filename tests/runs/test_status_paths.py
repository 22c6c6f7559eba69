"""Every way a run can end, driven through the SDK against devhost and the scripted model."""

from __future__ import annotations

import time

import openai
import pytest

from scripted_model import reply_error, reply_text, reply_tool_calls
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import make_assistant, requests_for, texts, thread_with, token, wait_for, wait_until
from tests.support.devhost_proc import ROOT, DevhostProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def tool_messages(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def test_create_and_poll_completes(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"Hello back {tok}", match=tok))
    thread = thread_with(fresh, f"Hello {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run
    assert run.last_error is None and run.required_action is None and run.incomplete_details is None
    assert texts(fresh, thread.id) == [("user", f"Hello {tok}"), ("assistant", f"Hello back {tok}")]
    assistant_message = fresh.beta.threads.messages.list(thread_id=thread.id).data[0]
    assert (assistant_message.run_id, assistant_message.assistant_id) == (run.id, assistant.id)
    assert assistant_message.status == "completed"
    assert len(requests_for(scripted, tok)) == 1


def test_poll_helpers_are_answered_when_the_run_finishes_not_on_every_tick(fresh, assistant, scripted, devhost):
    tok = token()
    scripted.client.enqueue(reply_text(f"Slow answer {tok}", match=tok, latency_ms=1500))
    thread = thread_with(fresh, f"take your time {tok}")
    retrievals_before = devhost.log().count("Executed 'Functions.runs_retrieve'")

    started = time.monotonic()
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    elapsed = time.monotonic() - started

    assert run.status == "completed", run
    # Ticking every 40 ms would take ~37 retrievals; a held poll is answered when the run completes.
    assert devhost.log().count("Executed 'Functions.runs_retrieve'") - retrievals_before <= 3
    assert elapsed < 1.5 + 1.0
    # A plain retrieval (not the SDK's poll helper) is never held.
    scripted.client.enqueue(reply_text(f"later {tok}", match=f"plain {tok}", latency_ms=1500))
    other = fresh.beta.threads.runs.create(thread_id=thread_with(fresh, f"plain {tok}").id, assistant_id=assistant.id)
    started = time.monotonic()
    assert fresh.beta.threads.runs.retrieve(other.id, thread_id=other.thread_id).status in ("queued", "in_progress")
    assert time.monotonic() - started < 1.0
    wait_for(fresh, other.thread_id, other.id, "completed")


def test_create_and_run_poll_completes(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"New thread answer {tok}", match=tok))

    run = fresh.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": f"Start {tok}"}]})

    assert run.status == "completed", run
    assert texts(fresh, run.thread_id) == [("user", f"Start {tok}"), ("assistant", f"New thread answer {tok}")]
    listed = fresh.beta.threads.runs.list(thread_id=run.thread_id).data
    assert [r.id for r in listed] == [run.id]


def test_requires_action_then_submit_completes(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok),
        reply_text(f"It is sunny {tok}", match=tok))
    thread = thread_with(fresh, f"Weather in Oslo? {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "requires_action", run
    assert run.required_action.type == "submit_tool_outputs"
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "Oslo"}'
    assert texts(fresh, thread.id) == [("user", f"Weather in Oslo? {tok}")]  # nothing lands before the answer

    done = fresh.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "21C sunny"}])

    assert done.status == "completed", done
    assert done.required_action is None
    assert texts(fresh, thread.id)[-1] == ("assistant", f"It is sunny {tok}")
    first, second = requests_for(scripted, tok)
    assert "tool" not in [m["role"] for m in first["messages"]]
    assert second["messages"][-2]["role"] == "assistant"
    assert [c["id"] for c in second["messages"][-2]["tool_calls"]] == [call.id]
    assert tool_messages(second) == [{"role": "tool", "tool_call_id": call.id, "content": "21C sunny"}]


def test_two_requires_action_rounds(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Quito"}}], match=tok),
        reply_tool_calls([{"name": "get_time", "arguments": {"city": "Quito"}}], match=tok),
        reply_text(f"Warm, 9am {tok}", match=tok))
    thread = thread_with(fresh, f"Quito {tok}")
    runs = fresh.beta.threads.runs

    first = runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert first.status == "requires_action", first
    (weather,) = first.required_action.submit_tool_outputs.tool_calls
    second = runs.submit_tool_outputs_and_poll(run_id=first.id, thread_id=thread.id,
                                               tool_outputs=[{"tool_call_id": weather.id, "output": "warm"}])
    assert second.status == "requires_action", second
    (clock,) = second.required_action.submit_tool_outputs.tool_calls
    assert clock.function.name == "get_time" and clock.id != weather.id
    with pytest.raises(openai.BadRequestError):  # the first round's call is not awaited any more
        runs.submit_tool_outputs(run_id=first.id, thread_id=thread.id,
                                 tool_outputs=[{"tool_call_id": weather.id, "output": "again"}])
    done = runs.submit_tool_outputs_and_poll(run_id=first.id, thread_id=thread.id,
                                             tool_outputs=[{"tool_call_id": clock.id, "output": "9am"}])

    assert done.status == "completed", done
    last = requests_for(scripted, tok)[2]
    assert [(m["tool_call_id"], m["content"]) for m in tool_messages(last)] == [(weather.id, "warm"), (clock.id, "9am")]
    steps = runs.steps.list(run_id=first.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "tool_calls", "message_creation"]
    assert all(s.status == "completed" for s in steps)


def test_parallel_client_tool_calls_have_distinct_ids_and_both_outputs_reach_the_model(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}},
                          {"name": "get_time", "arguments": {"city": "Lima"}}], match=tok),
        reply_text(f"Both done {tok}", match=tok))
    thread = thread_with(fresh, f"Weather and time {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "requires_action", run
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    outputs = {calls[0].id: "rainy", calls[1].id: "14:05"}
    done = fresh.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": cid, "output": out} for cid, out in reversed(outputs.items())])

    assert done.status == "completed", done
    second = requests_for(scripted, tok)[1]
    assert {m["tool_call_id"]: m["content"] for m in tool_messages(second)} == outputs
    assert [c["id"] for c in second["messages"][-3]["tool_calls"]] == [c.id for c in calls]


def test_partial_unknown_and_duplicate_outputs_are_rejected_and_the_run_keeps_waiting(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "A"}},
                          {"name": "get_weather", "arguments": {"city": "B"}}], match=tok),
        reply_text(f"Finally {tok}", match=tok))
    thread = thread_with(fresh, f"Two cities {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    first, second = (c.id for c in run.required_action.submit_tool_outputs.tool_calls)
    submit = fresh.beta.threads.runs.submit_tool_outputs

    bad_submissions = {
        "partial": [{"tool_call_id": first, "output": "x"}],
        "unknown": [{"tool_call_id": first, "output": "x"}, {"tool_call_id": "call_nope", "output": "y"}],
        "extra": [{"tool_call_id": first, "output": "x"}, {"tool_call_id": second, "output": "y"},
                  {"tool_call_id": "call_nope", "output": "z"}],
        "duplicate": [{"tool_call_id": first, "output": "x"}, {"tool_call_id": first, "output": "x"}],
    }
    for name, outputs in bad_submissions.items():
        with pytest.raises(openai.BadRequestError) as caught:
            submit(run_id=run.id, thread_id=thread.id, tool_outputs=outputs)
        assert caught.value.status_code == 400, name
        still = fresh.beta.threads.runs.retrieve(run.id, thread_id=thread.id)
        assert still.status == "requires_action", name
        assert still.required_action == run.required_action, name
    assert len(requests_for(scripted, tok)) == 1  # no rejected submission reached the model

    done = fresh.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": first, "output": "A ok"}, {"tool_call_id": second, "output": "B ok"}])
    assert done.status == "completed", done
    assert {m["content"] for m in tool_messages(requests_for(scripted, tok)[1])} == {"A ok", "B ok"}


def test_submit_when_not_requires_action_is_400(fresh, assistant, scripted):
    tok = token()
    thread = thread_with(fresh, f"plain {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run

    with pytest.raises(openai.BadRequestError) as caught:
        fresh.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": "call_x", "output": "x"}])
    assert caught.value.status_code == 400
    assert fresh.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "completed"
    assert len(fresh.beta.threads.messages.list(thread_id=thread.id).data) == 2


def _model_turn_finished(devhost, run_id: str, count: int = 1) -> bool:
    return devhost.log().count(f"Executed 'Functions.run_model_turn' (Succeeded, Id={run_id}:") >= count


@pytest.fixture(scope="module")
def one_activity_host(azurite, scripted, tmp_path_factory):
    """A host that runs one activity at a time (host.json's maxConcurrentActivityFunctions, set as the
    host reads it from an app setting): a run's first turn waits while another run's model thinks."""
    env = devhost_env(azurite, scripted, AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions="1")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("one-activity-devhost") / "devhost.log").start()
    yield process
    process.stop()


def test_cancel_while_queued_never_asks_the_model(one_activity_host, scripted):
    """A run cancelled before its first turn started it ends cancelled, and the model is never asked."""
    api = sdk_client(one_activity_host.base_url, f"principal-{time.time_ns()}")
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(f"busy {tok}", match=f"busy {tok}", latency_ms=1500))
    busy = api.beta.threads.runs.create(thread_id=thread_with(api, f"busy {tok}").id, assistant_id=assistant.id)
    wait_for(api, busy.thread_id, busy.id, "in_progress")  # its model turn holds the one activity slot
    scripted.client.enqueue(reply_text(f"never shown {tok}", match=f"cancel me {tok}"))
    thread = thread_with(api, f"cancel me {tok}")

    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    cancelling = api.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)

    assert (run.status, cancelling.status) == ("queued", "cancelling")
    done = wait_for(api, thread.id, run.id, "cancelled")
    assert done.started_at is None and done.cancelled_at is not None and done.completed_at is None
    wait_until(lambda: _model_turn_finished(one_activity_host, run.id), what="the turn that found it cancelled")
    assert requests_for(scripted, f"cancel me {tok}") == []
    assert texts(api, thread.id) == [("user", f"cancel me {tok}")]
    assert wait_for(api, busy.thread_id, busy.id, "completed").status == "completed"


def test_cancel_while_model_answers_drops_the_late_reply(fresh, assistant, scripted, devhost):
    tok = token()
    scripted.client.enqueue(reply_text(f"too late {tok}", match=tok, latency_ms=3000))
    thread = thread_with(fresh, f"slow question {tok}")
    run = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(fresh, thread.id, run.id, "in_progress")
    wait_until(lambda: requests_for(scripted, tok), what="the model request")

    cancelling = fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert cancelling.status == "cancelling"
    started = time.monotonic()
    done = wait_for(fresh, thread.id, run.id, "cancelled")
    assert time.monotonic() - started < 2.5, "the cancel waited for the model instead of racing it"
    assert done.cancelled_at is not None and done.started_at is not None

    # The model's answer arrives after the cancel: the activity finishes, and stores nothing.
    wait_until(lambda: _model_turn_finished(devhost, run.id), what="the late model turn")
    assert texts(fresh, thread.id) == [("user", f"slow question {tok}")]
    steps = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert steps == []
    # The thread is free again, and the next run's prompt does not contain the dropped reply.
    tok2 = token()
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"again {tok2}")
    again = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert again.status == "completed"
    assert "too late" not in str(requests_for(scripted, tok2)[0]["messages"])


def test_cancel_while_requires_action(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Rome"}}], match=tok))
    thread = thread_with(fresh, f"Rome weather {tok}")
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id

    cancelling = fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert cancelling.status == "cancelling"
    done = wait_for(fresh, thread.id, run.id, "cancelled")

    assert done.required_action is None and done.cancelled_at is not None
    (step,) = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert step.type == "tool_calls" and step.status == "cancelled" and step.cancelled_at is not None
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call_id, "output": "x"}])
    with pytest.raises(openai.BadRequestError):
        fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert len(requests_for(scripted, tok)) == 1
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="thread is free again")


def test_cancel_while_waiting_out_a_rate_limit(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_error(429, retry_after=20, match=tok), reply_text(f"never used {tok}", match=tok))
    thread = thread_with(fresh, f"long wait {tok}")
    run = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: requests_for(scripted, tok), what="the rate-limited model request")
    wait_for(fresh, thread.id, run.id, "in_progress")

    started = time.monotonic()
    assert fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id).status == "cancelling"
    done = wait_for(fresh, thread.id, run.id, "cancelled")

    assert time.monotonic() - started < 5, "the cancel waited for the Retry-After timer"
    assert done.cancelled_at is not None
    assert len(requests_for(scripted, tok)) == 1


def test_persistent_server_errors_fail_the_run(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(*[reply_error(500, message="boom", match=tok) for _ in range(4)],
                            reply_text(f"never used {tok}", match=tok))
    thread = thread_with(fresh, f"fragile {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "failed", run
    assert run.last_error.code == "server_error" and run.last_error.message
    assert run.failed_at is not None and run.completed_at is None
    assert len(requests_for(scripted, tok)) == 4  # the budget: four attempts, no more
    assert texts(fresh, thread.id) == [("user", f"fragile {tok}")]
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="released after failure")


def test_transient_server_error_is_retried(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_error(503, match=tok), reply_text(f"recovered {tok}", match=tok))
    thread = thread_with(fresh, f"flaky {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run
    assert run.last_error is None
    assert texts(fresh, thread.id)[-1] == ("assistant", f"recovered {tok}")
    assert len(requests_for(scripted, tok)) == 2


def test_rate_limit_waits_for_retry_after(fresh, assistant, scripted):
    tok = token()
    retry_after = 2.0
    scripted.client.enqueue(reply_error(429, retry_after=retry_after, match=tok),
                            reply_text(f"after the wait {tok}", match=tok))
    thread = thread_with(fresh, f"busy {tok}")

    before_create = time.monotonic()  # before the first model request, necessarily
    run = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: len(requests_for(scripted, tok)) >= 2, timeout=30, what="the retried model request")
    second_seen = time.monotonic()  # after the second model request, necessarily

    assert second_seen - before_create >= retry_after
    done = wait_for(fresh, thread.id, run.id, "completed")
    assert done.last_error is None
    assert texts(fresh, thread.id)[-1] == ("assistant", f"after the wait {tok}")


def test_max_completion_tokens_makes_the_run_incomplete(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(f"{tok} " + "word " * 200, match=tok))
    thread = thread_with(fresh, f"long answer please {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                  max_completion_tokens=16)

    assert run.status == "incomplete", run
    assert run.incomplete_details.reason == "max_completion_tokens"
    assert run.completed_at is None and run.last_error is None
    assert requests_for(scripted, tok)[0]["max_completion_tokens"] == 16
    message = fresh.beta.threads.messages.list(thread_id=thread.id).data[0]
    assert message.role == "assistant" and message.status == "incomplete"
    assert message.incomplete_details.reason == "max_tokens"
    assert len(message.content[0].text.value) <= 16 * 4
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content="released when incomplete")


def test_persistent_rate_limit_fails_the_run(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(*[reply_error(429, retry_after=0, match=tok) for _ in range(7)],
                            reply_text(f"never used {tok}", match=tok))
    thread = thread_with(fresh, f"throttled {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "failed", run
    assert run.last_error.code == "rate_limit_exceeded"
    assert len(requests_for(scripted, tok)) == 7  # six waits, then the run gives up


def test_model_refusing_the_request_fails_the_run_with_an_openai_error_code(fresh, assistant, scripted):
    tok = token()
    scripted.client.enqueue(reply_error(400, message="Unsupported value for this model", match=tok))
    thread = thread_with(fresh, f"refused {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "failed", run
    # A run's last_error.code is one of OpenAI's three (server_error, rate_limit_exceeded,
    # invalid_prompt); a plain 400 is a request we built wrongly. The model's own message is kept.
    assert run.last_error.code == "server_error"
    assert "Unsupported value for this model" in run.last_error.message
    assert len(requests_for(scripted, tok)) == 1  # a 4xx is not retried
