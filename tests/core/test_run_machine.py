"""The run state machine, exhaustively: every status against every event."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest

from core import run_machine as m
from core.errors import InvalidRequest
from core.wire.runs import RunStatus, StepStatus

AT = 1_700_000_000
ALL_STATUSES = sorted(m.ACTIVE_STATUSES | m.TERMINAL_STATUSES)
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def run_in(status: str, **fields) -> dict:
    required = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [CALL]}} \
        if status == m.REQUIRES_ACTION else None
    return {"id": "run_x", "status": status, "started_at": None, "expires_at": AT + 600, "required_action": required,
            "completed_at": None, "failed_at": None, "cancelled_at": None, "last_error": None,
            "incomplete_details": None, "usage": None, **fields}


EVENTS = [m.Start(), m.RequireAction(1, (CALL,)), m.SubmitToolOutputs(("call_1",)), m.Cancel(),
          *(m.Finish(status) for status in sorted(m.TERMINAL_STATUSES))]

# (from status, event type or finish target) → resulting status; absent pairs are refused.
ALLOWED = {
    (m.QUEUED, "Start"): m.IN_PROGRESS,
    (m.IN_PROGRESS, "Start"): m.IN_PROGRESS,
    (m.IN_PROGRESS, "RequireAction"): m.REQUIRES_ACTION,
    (m.REQUIRES_ACTION, "RequireAction"): m.REQUIRES_ACTION,
    (m.REQUIRES_ACTION, "SubmitToolOutputs"): m.QUEUED,
    **{(status, "Cancel"): m.CANCELLING for status in (m.QUEUED, m.IN_PROGRESS, m.REQUIRES_ACTION)},
    (m.IN_PROGRESS, m.COMPLETED): m.COMPLETED,
    (m.IN_PROGRESS, m.INCOMPLETE): m.INCOMPLETE,
    **{(status, m.FAILED): m.FAILED for status in m.ACTIVE_STATUSES},
    **{(status, m.CANCELLED): m.CANCELLED for status in m.ACTIVE_STATUSES},
    (m.REQUIRES_ACTION, m.EXPIRED): m.EXPIRED,
    (m.CANCELLING, m.EXPIRED): m.CANCELLED,
    # Finishing an ended run changes nothing (a retried activity); it only frees the thread.
    **{(status, target): status for status in m.TERMINAL_STATUSES for target in m.TERMINAL_STATUSES},
}


def _key(status: str, event: m.Event) -> tuple[str, str]:
    return status, event.status if isinstance(event, m.Finish) else type(event).__name__


@pytest.mark.parametrize("status, event", list(itertools.product(ALL_STATUSES, EVENTS)),
                         ids=lambda value: value if isinstance(value, str) else repr(value))
def test_every_status_against_every_event(status, event):
    before = run_in(status)
    expected = ALLOWED.get(_key(status, event))
    if expected is None:
        with pytest.raises(InvalidRequest) as refused:
            m.transition(before, event, AT)
        assert refused.value.status == 400
        return
    result = m.transition(before, event, AT)
    assert result.run["status"] == expected
    assert before == run_in(status), "the input record must not be mutated"
    assert result.release_thread == (expected in m.TERMINAL_STATUSES)
    assert result.changed == (expected != status)


def test_start_stamps_started_at_once():
    started = m.transition(run_in(m.QUEUED), m.Start(), AT).run
    assert started["started_at"] == AT
    again = m.transition(dict(started, status=m.QUEUED), m.Start(), AT + 50).run  # resumed after tool outputs
    assert again["started_at"] == AT


def test_require_action_lists_the_calls_and_is_idempotent_for_the_same_calls():
    asked = m.transition(run_in(m.IN_PROGRESS), m.RequireAction(1, (CALL,)), AT)
    assert asked.run["required_action"]["submit_tool_outputs"]["tool_calls"] == [CALL]
    assert not m.transition(asked.run, m.RequireAction(1, (CALL,)), AT).changed
    other = dict(CALL, id="call_2")
    with pytest.raises(m.TransitionRefused):
        m.transition(asked.run, m.RequireAction(2, (other,)), AT)


@pytest.mark.parametrize("given, message", [
    (("call_1", "call_1"), "only once"),
    (("call_9",), "call_9 is not awaiting"),
    ((), "missing ['call_1']"),
])
def test_tool_outputs_must_answer_each_pending_call_exactly_once(given, message):
    with pytest.raises(InvalidRequest, match=message.replace("[", r"\[").replace("]", r"\]")) as refused:
        m.transition(run_in(m.REQUIRES_ACTION), m.SubmitToolOutputs(given), AT)
    assert refused.value.param == "tool_outputs"


def test_submitting_outputs_queues_the_run_and_clears_required_action():
    queued = m.transition(run_in(m.REQUIRES_ACTION), m.SubmitToolOutputs(("call_1",)), AT).run
    assert queued["status"] == m.QUEUED and queued["required_action"] is None


def test_cancel_signals_the_orchestration():
    result = m.transition(run_in(m.IN_PROGRESS), m.Cancel(), AT)
    assert (result.signal, result.signal_data) == (m.CANCEL_EVENT, {"requested_at": AT})


def test_refusals_name_the_status():
    with pytest.raises(m.TransitionRefused, match="Cannot cancel run with status 'completed'") as refused:
        m.transition(run_in(m.COMPLETED), m.Cancel(), AT)
    assert refused.value.code == "invalid_state"


@pytest.mark.parametrize("target, stamp", [(m.COMPLETED, "completed_at"), (m.FAILED, "failed_at"),
                                           (m.CANCELLED, "cancelled_at")])
def test_finish_stamps_its_time_clears_the_deadline_and_reports_usage(target, stamp):
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    ended = m.transition(run_in(m.IN_PROGRESS), m.Finish(target, usage=usage), AT)
    assert ended.run[stamp] == AT and ended.run["expires_at"] is None and ended.run["usage"] == usage
    assert ended.close_open_steps_as == m.STEP_STATUS_AT_RUN_END[target]


def test_expired_keeps_its_deadline_and_a_failure_always_has_an_error():
    expired = m.transition(run_in(m.REQUIRES_ACTION), m.Finish(m.EXPIRED), AT).run
    assert expired["expires_at"] == AT + 600 and expired["required_action"] is None
    assert expired["usage"] == m.ZERO_USAGE
    failed = m.transition(run_in(m.QUEUED), m.Finish(m.FAILED), AT).run
    assert failed["last_error"]["code"] == "server_error"
    given = {"code": "rate_limit_exceeded", "message": "429s"}
    assert m.transition(run_in(m.IN_PROGRESS), m.Finish(m.FAILED, last_error=given), AT).run["last_error"] == given


def test_incomplete_says_why():
    ended = m.transition(run_in(m.IN_PROGRESS), m.Finish(m.INCOMPLETE, incomplete_reason="max_prompt_tokens"), AT)
    assert ended.run["incomplete_details"] == {"reason": "max_prompt_tokens"}
    assert ended.close_open_steps_as == m.COMPLETED


def test_finish_needs_a_terminal_status():
    with pytest.raises(ValueError):
        m.transition(run_in(m.IN_PROGRESS), m.Finish(m.QUEUED), AT)


# -- steps ------------------------------------------------------------------------------

def step_in(status: str, call_ids=("call_1", "call_2")) -> dict:
    return {"id": "step_x", "status": status, "completed_at": None, "cancelled_at": None, "failed_at": None,
            "expired_at": None, "step_details": {"type": "tool_calls", "tool_calls": [{"id": c} for c in call_ids]}}


@pytest.mark.parametrize("run_status", sorted(m.STEP_STATUS_AT_RUN_END))
def test_open_steps_close_with_their_runs_end(run_status):
    status = m.STEP_STATUS_AT_RUN_END[run_status]
    closed = m.close_step(step_in(m.IN_PROGRESS), status, AT)
    assert closed["status"] == status and closed[f"{status}_at"] == AT
    done = step_in(m.COMPLETED)
    assert m.close_step(done, status, AT) is done


def test_a_step_completes_only_when_every_call_is_answered():
    step = step_in(m.IN_PROGRESS)
    assert m.complete_step_if_answered(step, {"call_1"}, AT)["status"] == m.IN_PROGRESS
    done = m.complete_step_if_answered(step, {"call_1", "call_2"}, AT)
    assert done["status"] == m.COMPLETED and done["completed_at"] == AT
    cancelled = step_in(m.CANCELLED)  # a late tool output never reopens or completes a closed step
    assert m.complete_step_if_answered(cancelled, {"call_1", "call_2"}, AT)["status"] == m.CANCELLED


def test_the_wire_spells_out_the_machine_statuses():
    assert get_args(RunStatus) == m.RUN_STATUSES
    assert get_args(StepStatus) == m.STEP_STATUSES
