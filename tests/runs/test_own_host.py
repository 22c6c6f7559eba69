"""Runs on a devhost of this module's own: a short RUN_EXPIRY_SECONDS, a stand-in Logic App for
the built-in send_email tool (enabled, recipients at example.com allowed), and a host that is
killed mid-run."""

from __future__ import annotations

import json
import time

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import (
    SEND_EMAIL,
    WEATHER,
    LogicAppStandIn,
    make_assistant,
    requests_for,
    texts,
    thread_with,
    token,
    wait_for,
    wait_until,
)
from tests.support.devhost_proc import ROOT, DevhostProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

EXPIRY_SECONDS = 8  # short, yet longer than a devhost restart (a test submits outputs after one)


@pytest.fixture(scope="module")
def logic_app():
    stand_in = LogicAppStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="module")
def host(azurite, scripted, logic_app, tmp_path_factory):
    env = devhost_env(azurite, scripted, RUN_EXPIRY_SECONDS=str(EXPIRY_SECONDS),
                      SEND_EMAIL_LOGIC_APP_URL=f"{logic_app.url}/send-email?sig=secret",
                      SERVER_TOOLS_ENABLED="send_email", TOOL_EMAIL_ALLOWED_RECIPIENTS="example.com")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("own-devhost") / "devhost.log").start()
    yield process
    process.stop()


@pytest.fixture
def api(host) -> openai.OpenAI:
    return sdk_client(host.base_url, f"principal-{time.time_ns()}")


@pytest.fixture
def stand_in(logic_app):
    logic_app.received.clear()
    logic_app.polls.clear()
    logic_app.status, logic_app.delay_seconds, logic_app.pending_polls = 200, 0.0, 0
    yield logic_app
    logic_app.status, logic_app.delay_seconds, logic_app.pending_polls = 200, 0.0, 0


# -- expiry ------------------------------------------------------------------------

def test_requires_action_past_expires_at_expires(api, scripted):
    assistant = make_assistant(api, tools=[WEATHER])
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Nuuk"}}], match=tok))
    thread = thread_with(api, f"expire {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    assert run.expires_at == run.created_at + EXPIRY_SECONDS
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id

    expired = wait_for(api, thread.id, run.id, "expired", timeout=EXPIRY_SECONDS + 10)
    assert time.time() >= expired.expires_at  # never before its deadline
    assert expired.expires_at == run.expires_at and expired.required_action is None
    assert expired.completed_at is None and expired.cancelled_at is None and expired.failed_at is None
    (step,) = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert step.status == "expired" and step.expired_at is not None
    with pytest.raises(openai.BadRequestError):
        api.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call_id, "output": "late"}])
    assert len(requests_for(scripted, tok)) == 1
    api.beta.threads.messages.create(thread_id=thread.id, role="user", content="the thread is free again")


def test_outputs_before_expires_at_complete(api, scripted):
    assistant = make_assistant(api, tools=[WEATHER])
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Nuuk"}}], match=tok),
                            reply_text(f"cold {tok}", match=tok))
    thread = thread_with(api, f"in time {tok}")
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id

    done = api.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call_id, "output": "-5C"}])

    assert done.status == "completed", done
    assert done.expires_at is None


# -- server-side tools --------------------------------------------------------------

EMAIL = {"to": "ana@example.com", "subject": "Hi", "body": "See you at noon."}
OPTS_INTO_EMAIL = {"server_tools": "send_email"}  # the assistant's explicit opt-in (tools.registry.opted_in)


def test_opted_in_server_tool_runs_without_requires_action(api, scripted, stand_in):
    assistant = make_assistant(api, tools=[SEND_EMAIL, WEATHER], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"E-mail sent {tok}", match=tok))
    thread = thread_with(api, f"mail Ana {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run  # requires_action would have stopped the poll: the server ran it
    assert stand_in.received == [{"path": "/send-email?sig=secret", "body": EMAIL}]
    tool_step, message_step = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert (tool_step.type, tool_step.status, message_step.type) == ("tool_calls", "completed", "message_creation")
    (call,) = tool_step.step_details.tool_calls
    assert call.function.name == "send_email" and json.loads(call.function.arguments) == EMAIL
    assert json.loads(call.function.output) == {"status": "succeeded", "http_status": 200}
    second = requests_for(scripted, tok)[1]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": call.id, "content": call.function.output}
    assert texts(api, thread.id)[-1] == ("assistant", f"E-mail sent {tok}")


def test_parallel_server_calls_all_record_their_output(api, scripted, stand_in):
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    letters = [dict(EMAIL, to=f"person{i}@example.com") for i in range(3)]
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": e} for e in letters], match=tok),
                            reply_text(f"Three sent {tok}", match=tok))
    thread = thread_with(api, f"mail three {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run
    assert sorted(r["body"]["to"] for r in stand_in.received) == [e["to"] for e in letters]
    tool_step = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0]
    assert tool_step.status == "completed"
    assert [json.loads(c.function.output)["status"] for c in tool_step.step_details.tool_calls] == ["succeeded"] * 3
    second = requests_for(scripted, tok)[1]
    assert len([m for m in second["messages"] if m["role"] == "tool"]) == 3


def test_failing_logic_app_becomes_an_error_output_the_model_sees(api, scripted, stand_in):
    stand_in.status = 500
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"Sorry, mail is down {tok}", match=tok))
    thread = thread_with(api, f"mail again {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run
    assert len(stand_in.received) == 1
    tool_step = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0]
    (call,) = tool_step.step_details.tool_calls
    assert "HTTP 500" in json.loads(call.function.output)["error"]
    tool_message = requests_for(scripted, tok)[1]["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": call.id, "content": call.function.output}
    assert texts(api, thread.id)[-1] == ("assistant", f"Sorry, mail is down {tok}")


def test_server_and_client_calls_in_one_turn(api, scripted, stand_in):
    assistant = make_assistant(api, tools=[SEND_EMAIL, WEATHER], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "send_email", "arguments": EMAIL},
                          {"name": "get_weather", "arguments": {"city": "Faro"}}], match=tok),
        reply_text(f"Mailed, and it is warm {tok}", match=tok))
    thread = thread_with(api, f"both {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "requires_action", run
    (client_call,) = run.required_action.submit_tool_outputs.tool_calls
    assert client_call.function.name == "get_weather"
    assert len(stand_in.received) == 1  # the server's call ran first
    (step,) = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    outputs = {c.function.name: c.function.output for c in step.step_details.tool_calls}
    assert json.loads(outputs["send_email"])["status"] == "succeeded" and outputs["get_weather"] is None

    done = api.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": client_call.id, "output": "28C"}])
    assert done.status == "completed", done
    tool_messages = [m for m in requests_for(scripted, tok)[1]["messages"] if m["role"] == "tool"]
    assert {m["tool_call_id"]: m["content"] for m in tool_messages} == {
        c.id: c.function.output or "28C" for c in step.step_details.tool_calls}
    assert len(stand_in.received) == 1  # not sent twice


def test_a_clients_function_named_like_a_server_tool_is_never_hijacked(api, scripted, stand_in):
    assistant = make_assistant(api, tools=[SEND_EMAIL])  # declared, but no opt-in: the client's own function
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": {"to": "a@b.c", "content": "x"}}],
                                             match=tok))
    thread = thread_with(api, f"client mail {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "requires_action", run
    assert [c.function.name for c in run.required_action.submit_tool_outputs.tool_calls] == ["send_email"]
    assert stand_in.received == []
    api.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    wait_for(api, thread.id, run.id, "cancelled")


def test_a_call_to_an_undeclared_function_is_a_tool_error_and_the_run_goes_on(api, scripted, stand_in):
    assistant = make_assistant(api, tools=[WEATHER])
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"I cannot send mail {tok}", match=tok))
    thread = thread_with(api, f"undeclared {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run  # never requires_action: the client did not declare it
    assert stand_in.received == []  # and the server tool of that name did not run
    tool_step = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0]
    (call,) = tool_step.step_details.tool_calls
    assert tool_step.status == "completed" and "no tool named 'send_email'" in json.loads(call.function.output)["error"]
    tool_message = requests_for(scripted, tok)[1]["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": call.id, "content": call.function.output}
    assert texts(api, thread.id)[-1] == ("assistant", f"I cannot send mail {tok}")


@pytest.mark.parametrize("run_tools", [[], [{"type": "code_interpreter"}], [WEATHER]])
def test_a_runs_own_tools_withdraw_the_assistants_server_tools(api, scripted, stand_in, run_tools):
    """Per-run tools replace the assistant's, as at OpenAI: an opted-in server tool the run does not
    declare is neither offered nor run, even when the model calls it anyway."""
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"not sent {tok}", match=tok))
    thread = thread_with(api, f"withdrawn {tok}")

    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, tools=run_tools)

    assert run.status == "completed", run
    assert stand_in.received == []  # no mail left the building
    offered = [tool["function"]["name"] for tool in requests_for(scripted, tok)[0].get("tools", [])]
    assert "send_email" not in offered
    (call,) = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0] \
        .step_details.tool_calls
    assert "no tool named 'send_email'" in json.loads(call.function.output)["error"]


def test_cancel_while_a_server_tool_runs(host, api, scripted, stand_in):
    stand_in.delay_seconds = 1.5
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"never asked {tok}", match=tok))
    thread = thread_with(api, f"slow mail {tok}")
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: stand_in.received, what="the Logic App call")

    assert api.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id).status == "cancelling"
    done = wait_for(api, thread.id, run.id, "cancelled")
    assert done.cancelled_at is not None

    # The tool was already running; when it returns, the cancelled run's step stays cancelled.
    wait_until(lambda: f"Executed 'Functions.run_tool_call' (Succeeded, Id={run.id}:" in host.log(),
               what="the tool activity to finish")
    (step,) = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert step.status == "cancelled" and step.cancelled_at is not None and step.completed_at is None
    assert len(requests_for(scripted, tok)) == 1  # the model was not asked again
    assert texts(api, thread.id) == [("user", f"slow mail {tok}")]


# -- a Logic App that answers 202 + Location: followed on durable timers --------------------

def test_an_accepted_logic_app_call_is_polled_until_it_finishes(api, scripted, stand_in):
    stand_in.pending_polls = 2
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"Mail delivered {tok}", match=tok))
    thread = thread_with(api, f"mail, eventually {tok}")

    started = time.monotonic()
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)

    assert run.status == "completed", run
    assert stand_in.polls == ["/status/1?sig=secret"] * 2 and time.monotonic() - started >= 2  # Retry-After: 1
    (call,) = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data[0] \
        .step_details.tool_calls
    assert json.loads(call.function.output)["status"] == "succeeded"
    assert "sig=secret" not in json.dumps(requests_for(scripted, tok)[1])  # the status URL never reaches the model
    assert texts(api, thread.id)[-1] == ("assistant", f"Mail delivered {tok}")


def test_a_cancel_while_a_logic_app_call_is_polled_stops_the_polling(api, scripted, stand_in):
    stand_in.pending_polls = 1000
    assistant = make_assistant(api, tools=[SEND_EMAIL], metadata=OPTS_INTO_EMAIL)
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "send_email", "arguments": EMAIL}], match=tok),
                            reply_text(f"never asked {tok}", match=tok))
    thread = thread_with(api, f"slow logic app {tok}")
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: stand_in.polls, what="the first poll")

    api.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    done = wait_for(api, thread.id, run.id, "cancelled")
    polls_at_cancel = len(stand_in.polls)
    time.sleep(2.5)  # more than two Retry-After periods

    assert done.status == "cancelled" and len(stand_in.polls) <= polls_at_cancel + 1
    assert len(requests_for(scripted, tok)) == 1


# -- a host that dies mid-run (last: it restarts this module's devhost) ---------------

def test_devhost_killed_in_requires_action_still_takes_the_outputs(host, api, scripted):
    assistant = make_assistant(api, tools=[WEATHER])
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Baku"}}], match=tok),
                            reply_text(f"windy {tok}", match=tok))
    thread = thread_with(api, f"restart while waiting {tok}")
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id

    host.restart()

    done = api.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call_id, "output": "45 km/h"}])
    assert done.status == "completed", done
    assert texts(api, thread.id)[-1] == ("assistant", f"windy {tok}")
    assert len(requests_for(scripted, tok)) == 2


def test_devhost_killed_mid_run_completes_with_one_answer(host, api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(f"lost with the host {tok}", match=tok, latency_ms=2000),
                            reply_text(f"after the restart {tok}", match=tok))
    thread = thread_with(api, f"survive {tok}")
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(api, thread.id, run.id, "in_progress")
    wait_until(lambda: requests_for(scripted, tok), what="the model request")

    host.kill()
    host.start()

    done = wait_for(api, thread.id, run.id, "completed", timeout=60)
    assert done.last_error is None
    assert texts(api, thread.id) == [("user", f"survive {tok}"), ("assistant", f"after the restart {tok}")]
    assert len(requests_for(scripted, tok)) == 2  # the turn in flight was asked again, once
    steps = api.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    assert [(s.type, s.status) for s in steps] == [("message_creation", "completed")]
