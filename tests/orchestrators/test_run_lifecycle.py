"""The run lifecycle's decisions, exhaustively: every outcome a model turn can report."""

import pytest

from core.run_machine import FAILED, tool_outputs_event
from orchestrators.run_lifecycle import (
    FaultBudget,
    Finish,
    RequireAction,
    RunServerTools,
    TurnState,
    Wait,
    after_engine_fault,
    after_model_turn,
    after_tool_outputs_wait,
    backoff_seconds,
)

BUDGET = FaultBudget(max_server_error_attempts=3, max_rate_limit_waits=2, backoff_first_seconds=1,
                     backoff_max_seconds=3, rate_limit_default_wait_seconds=5, rate_limit_max_wait_seconds=60,
                     max_turns=4)


@pytest.mark.parametrize("outcome, expected", [
    ({"kind": "message"}, Finish("completed", recorded=True)),
    ({"kind": "cancelled"}, Finish("cancelled")),
    ({"kind": "incomplete", "reason": "max_completion_tokens"},
     Finish("incomplete", incomplete_reason="max_completion_tokens")),
    ({"kind": "failed", "code": "invalid_request_error", "message": "no such model"},
     Finish("failed", last_error={"code": "invalid_request_error", "message": "no such model"})),
])
def test_terminal_outcomes(outcome, expected):
    assert after_model_turn(outcome, TurnState(), BUDGET) == expected


def test_rate_limit_waits_for_retry_after_then_fails_past_the_budget():
    state = TurnState()
    assert after_model_turn({"kind": "rate_limited", "retry_after": 1.5}, state, BUDGET) == Wait(1.5)
    assert after_model_turn({"kind": "rate_limited", "retry_after": None}, state, BUDGET) == Wait(5)
    final = after_model_turn({"kind": "rate_limited", "retry_after": 1}, state, BUDGET)
    assert isinstance(final, Finish) and final.status == "failed"
    assert final.last_error["code"] == "rate_limit_exceeded"


def test_rate_limit_wait_is_capped():
    assert after_model_turn({"kind": "rate_limited", "retry_after": 9999}, TurnState(), BUDGET) == Wait(60)


def test_server_errors_back_off_then_fail():
    state = TurnState()
    assert after_model_turn({"kind": "server_error", "message": "503"}, state, BUDGET) == Wait(1)
    assert after_model_turn({"kind": "server_error", "message": "503"}, state, BUDGET) == Wait(2)
    final = after_model_turn({"kind": "server_error", "message": "503"}, state, BUDGET)
    assert final.status == "failed" and final.last_error["code"] == "server_error"
    assert "503" in final.last_error["message"]


def test_a_new_turn_resets_the_fault_counters():
    state = TurnState()
    after_model_turn({"kind": "server_error"}, state, BUDGET)
    after_model_turn({"kind": "server_error"}, state, BUDGET)
    state.next_turn()
    assert after_model_turn({"kind": "server_error"}, state, BUDGET) == Wait(1)


def test_backoff_is_exponential_and_capped():
    assert [backoff_seconds(n, BUDGET) for n in range(1, 5)] == [1, 2, 3, 3]


def test_tool_calls_split_into_server_and_client_work():
    outcome = {"kind": "tool_calls", "step_id": "step_1", "server_calls": ["call_a"], "client_calls": ["call_b"]}
    assert after_model_turn(outcome, TurnState(), BUDGET) == RunServerTools("step_1", ("call_a",), True)
    outcome = {"kind": "tool_calls", "step_id": "step_1", "server_calls": ["call_a"], "client_calls": []}
    assert after_model_turn(outcome, TurnState(), BUDGET) == RunServerTools("step_1", ("call_a",), False)
    outcome = {"kind": "tool_calls", "step_id": "step_1", "server_calls": [], "client_calls": ["call_b"]}
    assert after_model_turn(outcome, TurnState(), BUDGET) == RequireAction("step_1")


def test_endless_tool_calling_is_stopped():
    state = TurnState(turn=3)
    final = after_model_turn({"kind": "tool_calls", "step_id": "s", "server_calls": ["c"]}, state, BUDGET)
    assert isinstance(final, Finish) and final.status == "failed"


def test_requires_action_wait_outcomes():
    assert after_tool_outputs_wait("outputs") is None
    assert after_tool_outputs_wait("expired") == Finish("expired")
    assert after_tool_outputs_wait("cancelled") == Finish("cancelled")
    with pytest.raises(ValueError):
        after_tool_outputs_wait("other")


def test_unknown_outcome_is_an_error_not_a_guess():
    with pytest.raises(ValueError):
        after_model_turn({"kind": "surprise"}, TurnState(), BUDGET)


def test_each_action_round_has_its_own_event():
    assert tool_outputs_event(1) != tool_outputs_event(2)


def test_polling_waits_for_retry_after_and_gives_up_at_the_deadline():
    from orchestrators.run_lifecycle import after_poll, due, next_poll_at, start_polling
    call = start_polling({"call_id": "c1", "location": "L1", "retry_after_seconds": 3, "deadline_seconds": 10}, 100)
    other = start_polling({"call_id": "c2", "location": "M1", "retry_after_seconds": 1, "deadline_seconds": 10}, 100)
    assert next_poll_at([call, other]) == 101
    assert due([call, other], 101) == [other]
    assert after_poll(other, {"done": True}, 101) is None
    again = after_poll(call, {"done": False, "location": "L2", "retry_after_seconds": 30}, 103)
    assert (again.location, again.next_at, again.deadline_at) == ("L2", 133, 110)
    assert next_poll_at([again]) == 110  # the deadline comes before the next Retry-After
    assert after_poll(again, {"done": False, "location": None, "retry_after_seconds": 1}, 110).location == "L2"


def test_an_activity_failing_past_its_retries_fails_the_run_with_its_reason_and_no_traceback():
    error = Exception("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer')) \n "
                      "Traceback (most recent call last):\n  File \"activities/runs.py\", line 1\n")
    finish = after_engine_fault(error)
    assert finish.status == FAILED and finish.last_error["code"] == "server_error"
    message = finish.last_error["message"]
    assert "kept failing after every retry" in message and "Connection reset by peer" in message
    assert "Traceback" not in message and "activities/runs.py" not in message
    assert "kept failing" in after_engine_fault(Exception("")).last_error["message"]
