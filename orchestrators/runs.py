"""The run orchestrator: a thin durable loop around the decisions in run_lifecycle.

Input and every activity payload are ids and small results (core.run_protocol).
Each wait is raced against the run's cancel event, so a cancel takes effect at
once; the work that lost the race finds the run no longer in progress and stores
nothing. There is one cancel waiter per run, shared by every race: a cancel
raised while the loop is between waits is kept for the next race instead of
resolving a stale waiter.

`orchestrate` uses only the Durable API shared by the 1.x and 2.x SDKs, so tests
drive it directly with a stand-in context (tests/orchestrators/test_run_orchestrator.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import azure.durable_functions as df
from azure.durable_functions.models.Task import TaskState

from core import run_protocol as protocol
from core.run_machine import CANCEL_EVENT, CANCELLED, EXPIRED, tool_outputs_event
from orchestrators.run_lifecycle import (
    FaultBudget,
    Finish,
    NextTurn,
    RequireAction,
    RunServerTools,
    TurnState,
    Wait,
    after_engine_fault,
    after_model_turn,
    after_poll,
    after_tool_outputs_wait,
    due,
    next_poll_at,
    on_client_calls,
    start_polling,
)

bp = df.Blueprint()
ACTIVITY_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)
BUDGET = FaultBudget()


@bp.orchestration_trigger(context_name="context")
def run_orchestrator(context: df.DurableOrchestrationContext):
    return (yield from orchestrate(context))


def orchestrate(context):
    """The run from its first model turn to its terminal status; returns that status."""
    ref = protocol.RunRef.of(context.get_input())
    cancel = context.wait_for_external_event(CANCEL_EVENT)
    state = TurnState()
    try:
        finish = yield from _run_turns(context, ref, state, cancel)
    except Exception as error:  # an activity failed past its retries: the run fails, honestly
        finish = after_engine_fault(error)
    if not finish.recorded:
        yield _call(context, protocol.FINISH, protocol.FinishRequest(
            **protocol.ref_fields(ref), status=finish.status, last_error=finish.last_error,
            incomplete_reason=finish.incomplete_reason))
    return finish.status


def _call(context, name: str, payload: protocol.Payload):
    return context.call_activity_with_retry(name, ACTIVITY_RETRY, payload.wire())


def _race_cancel(context, task, cancel):
    """Wait for `task` or the cancel event; returns (result, cancelled)."""
    winner = yield context.task_any([task, cancel])
    if winner == cancel:
        return None, True
    if task.state is TaskState.FAILED:
        raise task.result
    return task.result, False


def _run_turns(context, ref: protocol.RunRef, state: TurnState, cancel):
    """Model turns until a decision finishes the run."""
    while True:
        context.set_custom_status({"turn": state.turn})
        outcome, cancelled = yield from _race_cancel(
            context, _call(context, protocol.MODEL_TURN, protocol.TurnRequest(**protocol.ref_fields(ref),
                                                                              turn=state.turn)), cancel)
        if cancelled:
            return Finish(CANCELLED)
        decision = after_model_turn(outcome, state, BUDGET)
        if isinstance(decision, Wait):
            timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=decision.seconds))
            _, cancelled = yield from _race_cancel(context, timer, cancel)
            if cancelled:
                timer.cancel()
                return Finish(CANCELLED)
            continue
        if isinstance(decision, NextTurn):
            state.next_turn()
            continue
        if isinstance(decision, RunServerTools):
            calls = [_call(context, protocol.TOOL_CALL, protocol.ToolCallRequest(
                **protocol.ref_fields(ref), step_id=decision.step_id, call_id=call_id)) for call_id in decision.call_ids]
            results, cancelled = yield from _race_cancel(context, context.task_all(calls), cancel)
            if cancelled:
                return Finish(CANCELLED)
            polling = [start_polling(result["pending"], _now(context)) for result in results if result.get("pending")]
            if polling and (yield from _poll_until_done(context, ref, decision.step_id, polling, cancel)):
                return Finish(CANCELLED)
            if not decision.then_require_action:
                state.next_turn()
                continue
            decision = RequireAction(decision.step_id)
        if isinstance(decision, RequireAction):
            handed_back = on_client_calls(ref.hands_calls_back)
            if handed_back is not None:
                return handed_back
            finish = yield from _require_action(context, ref, state, outcome, cancel)
            if finish is not None:
                return finish
            state.next_turn()
            continue
        return decision


def _now(context) -> float:
    return context.current_utc_datetime.timestamp()


def _poll_until_done(context, ref: protocol.RunRef, step_id: str, polling: list, cancel):
    """Follow server calls still at work on durable timers until each is done or out of time;
    returns True when the run was cancelled meanwhile (polling stops at once)."""
    while polling:
        timer = context.create_timer(datetime.fromtimestamp(next_poll_at(polling), tz=timezone.utc))
        _, cancelled = yield from _race_cancel(context, timer, cancel)
        if cancelled:
            timer.cancel()
            return True
        now = _now(context)
        batch = due(polling, now)
        polls = [_call(context, protocol.TOOL_POLL, protocol.ToolPollRequest(
            **protocol.ref_fields(ref), step_id=step_id, call_id=call.call_id, location=call.location,
            give_up=now >= call.deadline_at)) for call in batch]
        results, cancelled = yield from _race_cancel(context, context.task_all(polls), cancel)
        if cancelled:
            return True
        now = _now(context)
        polling = [call for call in polling if call not in batch] + [
            follow for call, result in zip(batch, results) if (follow := after_poll(call, result, now)) is not None]
    return False


def _require_action(context, ref: protocol.RunRef, state: TurnState, outcome: dict, cancel):
    """requires_action until the client's outputs arrive, the run expires or is cancelled."""
    state.action_rounds += 1
    asked = protocol.RequireActionResult.of((yield _call(context, protocol.REQUIRE_ACTION, protocol.RequireActionRequest(
        **protocol.ref_fields(ref), step_id=outcome["step_id"], client_calls=outcome["client_calls"],
        round=state.action_rounds))))
    if not asked.asked:
        return Finish(CANCELLED)
    assert asked.expires_at is not None  # a run that asked has its expiry
    expires_at = datetime.fromtimestamp(asked.expires_at, tz=timezone.utc)
    outputs = context.wait_for_external_event(tool_outputs_event(state.action_rounds))
    expiry = context.create_timer(expires_at)
    winner = yield context.task_any([outputs, cancel, expiry])
    if winner != expiry:
        expiry.cancel()
    finish = after_tool_outputs_wait("outputs" if winner == outputs else "cancelled" if winner == cancel else EXPIRED)
    if finish is None:
        yield _call(context, protocol.RESUME, ref)
    return finish
