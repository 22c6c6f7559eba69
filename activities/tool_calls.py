"""The activities that run one server-side tool call of a run step (a built-in tool or an opted-in
server function), through the call's plug-in (tools.plugins).

Parallel calls of one step run as parallel activities; each adds its output to
the step under the step's ETag, and the step completes when every call has one.
A call whose output is already stored (a repeated delivery) is not run again,
and a run no longer in progress (cancelled meanwhile) gets no new side effects.
A call that cannot finish yet — a Logic App's "accepted, still running" (202 +
Location), a search whose stores are still ingesting — hands the orchestrator a
PendingCall; it polls with `run_tool_poll` on durable timers, so no activity
sleeps while the work goes on elsewhere.
"""

from __future__ import annotations

import time

import azure.durable_functions as df

from core import run_machine
from core.repositories.runs import StoredRun, StoredStep
from core.repositories.shared import runs
from core.run_bookkeeping import StepBookkeeping
from core.run_events.step_changes import step_change_events
from core.run_protocol import PendingCall, ToolCallRequest, ToolCallResult, ToolPollRequest, ToolPollResult
from core.tool_plugins import CallContext, Finished, Waiting
from tools.plugins import TOOLS

bp = df.Blueprint()


def _context(ask: ToolCallRequest | ToolPollRequest, run: StoredRun, step: StoredStep) -> CallContext:
    call = next(call for call in step.record["step_details"]["tool_calls"] if call["id"] == ask.call_id)
    return CallContext(ask.principal, ask.thread_id, ask.run_id, ask.step_id, call, run.record, run.books, step.books)


@bp.activity_trigger(input_name="request")
def run_tool_call(request: dict) -> dict:
    """Execute one server-side call and store its output on the step."""
    ask = ToolCallRequest.of(request)
    run = runs().load(ask.principal, ask.thread_id, ask.run_id)
    if run.record["status"] != run_machine.IN_PROGRESS:
        return ToolCallResult(ask.call_id).wire()
    step = runs().load_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id)
    context = _context(ask, run, step)
    tool = TOOLS.of(context.call, step.books)
    if tool.model_output(context.call, step.books) is not None:
        return ToolCallResult(ask.call_id).wire()  # a repeated delivery of a call already run
    outcome = tool.execute(context)
    if isinstance(outcome, Waiting):  # started, not finished: the orchestrator polls on durable timers
        return ToolCallResult(ask.call_id, PendingCall(
            ask.call_id, outcome.location, outcome.retry_after_seconds, outcome.deadline_seconds).wire()).wire()
    _record(ask, outcome)
    return ToolCallResult(ask.call_id).wire()


@bp.activity_trigger(input_name="request")
def run_tool_poll(request: dict) -> dict:
    """Poll a server call still at work once; record its output when it is done (or out of time)."""
    poll = ToolPollRequest.of(request)
    run = runs().load(poll.principal, poll.thread_id, poll.run_id)
    if run.record["status"] != run_machine.IN_PROGRESS:
        return ToolPollResult(done=True).wire()  # cancelled meanwhile: stop following it
    step = runs().load_step(poll.principal, poll.thread_id, poll.run_id, poll.step_id)
    context = _context(poll, run, step)
    tool = TOOLS.of(context.call, step.books)
    outcome = tool.poll(context, poll.location, poll.give_up)
    if isinstance(outcome, Waiting):
        return ToolPollResult(done=False, location=outcome.location or None,
                              retry_after_seconds=outcome.retry_after_seconds).wire()
    _record(poll, outcome)
    return ToolPollResult(done=True).wire()


def _record(ask: ToolCallRequest | ToolPollRequest, result: Finished) -> None:
    """Store a call's result on its step (see Tools.recorded); a result that cannot be stored is undone."""
    def change(current: StoredStep) -> tuple[dict, StepBookkeeping]:
        return TOOLS.recorded(current.record, current.books, ask.call_id, result, int(time.time()))

    try:
        runs().update_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id, change,
                           events=lambda before, after: step_change_events(TOOLS, before, after))
    except BaseException:  # e.g. the files it made are referenced by nothing now: no orphans on a retry
        if result.undo is not None:
            result.undo()
        raise
