"""Runs whose orchestration is gone (purged, a task hub reset) end honestly and release their thread.

HTTP never leaves a status change nobody will act on: when the signal cannot be delivered, the run
is ended there and then. And the run sweeper (a timer trigger) ends whatever is left, so no run
stays active forever even with no orchestration at all.
"""

from __future__ import annotations

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_env, sdk_client
from tests.runs.conftest import WEATHER, make_assistant, thread_with, token, wait_for
from tests.support.devhost_proc import ROOT, DevhostProcess


def _parked_run(api, scripted):
    """A run waiting in requires_action for a client's tool output."""
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Faro"}}], match=tok))
    thread = thread_with(api, f"weather {tok}")
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=make_assistant(api, tools=[WEATHER]).id)
    assert run.status == "requires_action", run
    return thread, run


def _thread_takes_a_new_run(api, scripted, thread):
    tok = token()
    api.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"again {tok}")
    scripted.client.enqueue(reply_text(f"fine {tok}", match=tok))
    again = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=make_assistant(api).id)
    assert again.status == "completed", again


def test_tool_outputs_for_a_run_whose_orchestration_is_gone(devhost, fresh, scripted):
    thread, run = _parked_run(fresh, scripted)
    devhost.purge(run.id)
    call = run.required_action.submit_tool_outputs.tool_calls[0]

    with pytest.raises(openai.BadRequestError) as caught:
        fresh.beta.threads.runs.submit_tool_outputs(run_id=run.id, thread_id=thread.id,
                                                   tool_outputs=[{"tool_call_id": call.id, "output": "sunny"}])

    assert caught.value.body["code"] == "run_orchestration_lost"
    ended = fresh.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id)
    assert ended.status == "failed" and ended.last_error.code == "server_error"
    assert "orchestration no longer exists" in ended.last_error.message
    (step,) = fresh.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id)
    assert step.status == "completed" and step.step_details.tool_calls[0].function.output == "sunny"  # answered
    _thread_takes_a_new_run(fresh, scripted, thread)


def test_cancelling_a_run_whose_orchestration_is_gone_cancels_it(devhost, fresh, scripted):
    thread, run = _parked_run(fresh, scripted)
    devhost.purge(run.id)

    cancelled = fresh.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)

    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert fresh.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id).status == "cancelled"
    _thread_takes_a_new_run(fresh, scripted, thread)


@pytest.fixture(scope="module")
def sweeping_host(azurite, scripted, tmp_path_factory):
    """A devhost whose sweeper runs every second; runs expire 10 s after creation (time enough, on a loaded
    machine, to park one and purge its orchestration before its own timer fires), and the sweeper leaves
    them to their orchestration for 12 s."""
    env = devhost_env(azurite, scripted, RUN_SWEEP_SCHEDULE="* * * * * *", RUN_SWEEP_GRACE_SECONDS="12",
                      RUN_EXPIRY_SECONDS="10")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("sweeper") / "devhost.log").start()
    yield process
    process.stop()


def test_the_sweeper_ends_a_run_no_orchestration_will_move(sweeping_host, scripted):
    api = sdk_client(sweeping_host.base_url, f"sweep-{token()}")
    thread, run = _parked_run(api, scripted)
    sweeping_host.purge(run.id)  # before its own expiry timer fires: nothing will ever move it now

    assert api.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id).status == "requires_action"
    ended = wait_for(api, thread.id, run.id, ("expired", "failed", "cancelled"), timeout=30)

    assert ended.status == "expired", ended  # it was waiting for outputs past its expires_at
    assert "ended by the run sweeper" not in sweeping_host.log()  # nothing live to terminate
    assert f"run {run.id} on thread {thread.id} was requires_action with orchestration missing" in sweeping_host.log()
    _thread_takes_a_new_run(api, scripted, thread)
