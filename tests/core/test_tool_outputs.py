"""Submitting tool outputs, decided without storage (core.tool_outputs): what the run's update applies."""

from __future__ import annotations

import copy

import pytest

from core import run_machine as m
from core.errors import Conflict, InvalidRequest
from core.repositories.runs import StoredRun, StoredStep, shown
from core.run_bookkeeping import RunBookkeeping, StepBookkeeping
from core.tool_outputs import accept_tool_outputs

AT = 1_700_000_000
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}}
CODE = {"id": "call_ci", "type": "code_interpreter", "code_interpreter": {"input": "1+1", "outputs": []}}


def waiting_run(status: str = m.REQUIRES_ACTION, action_step: str | None = "step_1", round_: int = 2) -> StoredRun:
    required = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [CALL]}} \
        if status == m.REQUIRES_ACTION else None
    record = {"id": "run_x", "thread_id": "thread_x", "status": status, "required_action": required,
              "expires_at": AT + 600}
    return StoredRun(record, RunBookkeeping(round=round_, action_step=action_step), "etag-run", None)


def action_step(*calls: dict, step_id: str = "step_1", books: StepBookkeeping | None = None) -> StoredStep:
    record = {"id": step_id, "object": "thread.run.step", "run_id": "run_x", "thread_id": "thread_x",
              "type": "tool_calls", "status": m.IN_PROGRESS, "completed_at": None, "_private": "kept out of events",
              "step_details": {"type": "tool_calls", "tool_calls": [copy.deepcopy(call) for call in calls or (CALL,)]}}
    return StoredStep(record, books or StepBookkeeping(), "etag-step", None)


def test_outputs_for_every_call_queue_the_run_and_complete_the_step():
    step = action_step()
    change = accept_tool_outputs(waiting_run(), step, [("call_1", "42")], AT)
    assert change.record["status"] == m.QUEUED and change.record["required_action"] is None
    [(as_read, answered, books)] = change.replace_steps
    assert as_read is step and books is step.books  # replaced under the ETag it was read with
    assert answered["step_details"]["tool_calls"][0]["function"]["output"] == "42"
    assert answered["status"] == m.COMPLETED and answered["completed_at"] == AT
    assert change.events == []  # nothing by hand: what it shows is derived from the change
    [(step_event, data), (run_event, run_data)] = shown(waiting_run().record, change)
    assert step_event == "thread.run.step.completed" and data["id"] == "step_1" and "_private" not in data
    assert data["status"] == m.COMPLETED and (run_event, run_data["status"]) == ("thread.run.queued", m.QUEUED)
    assert change.books is None and not change.new_steps and not change.release_thread


def test_the_step_as_read_is_left_as_it_was():
    step = action_step()
    before = copy.deepcopy(step.record)
    accept_tool_outputs(waiting_run(), step, [("call_1", "42")], AT)
    assert step.record == before


def test_a_step_with_a_call_still_without_output_stays_open_and_shows_nothing():
    change = accept_tool_outputs(waiting_run(), action_step(CALL, CODE), [("call_1", "42")], AT)
    [(_, answered, _)] = change.replace_steps
    assert answered["status"] == m.IN_PROGRESS and answered["completed_at"] is None
    assert answered["step_details"]["tool_calls"][0]["function"]["output"] == "42"
    assert change.events == [] and change.record["status"] == m.QUEUED
    assert [name for name, _ in shown(waiting_run().record, change)] == ["thread.run.queued"]


def test_a_built_in_call_whose_output_the_bookkeeping_holds_counts_as_answered():
    step = action_step(CALL, CODE, books=StepBookkeeping(outputs={"call_ci": "2"}))
    [(_, answered, _)] = accept_tool_outputs(waiting_run(), step, [("call_1", "42")], AT).replace_steps
    assert answered["status"] == m.COMPLETED


@pytest.mark.parametrize("submitted, message", [
    ([("call_1", "a"), ("call_1", "b")], "only once"),
    ([("call_9", "a")], "call_9 is not awaiting"),
    ([], "missing"),
])
def test_outputs_must_answer_the_pending_calls_exactly(submitted, message):
    with pytest.raises(InvalidRequest, match=message) as refused:
        accept_tool_outputs(waiting_run(), action_step(), submitted, AT)
    assert refused.value.param == "tool_outputs"


@pytest.mark.parametrize("status", [m.QUEUED, m.IN_PROGRESS, m.CANCELLING, m.COMPLETED, m.EXPIRED])
def test_a_run_that_does_not_wait_refuses_before_any_step_is_needed(status):
    with pytest.raises(m.TransitionRefused, match=f'status "{status}" do not accept tool outputs'):
        accept_tool_outputs(waiting_run(status), None, [("call_1", "42")], AT)


def test_a_run_waiting_on_another_step_than_the_one_loaded_is_a_conflict():
    with pytest.raises(Conflict):
        accept_tool_outputs(waiting_run(action_step="step_2"), action_step(), [("call_1", "42")], AT)
    with pytest.raises(Conflict):  # it was not waiting when loaded; it is now (a retry read it afresh)
        accept_tool_outputs(waiting_run(), None, [("call_1", "42")], AT)


def test_a_waiting_run_that_names_no_step_is_a_bug_not_a_refusal():
    with pytest.raises(RuntimeError, match="names no action step"):
        accept_tool_outputs(waiting_run(action_step=None), action_step(), [("call_1", "42")], AT)
