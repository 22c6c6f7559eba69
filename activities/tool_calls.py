"""The activities that run one server-side tool call of a run step (code_interpreter or an opted-in tool).

Parallel calls of one step run as parallel activities; each adds its output to
the step under the step's ETag, and the step completes when every call has one.
A call whose output is already stored (a repeated delivery) is not run again,
and a run no longer in progress (cancelled meanwhile) gets no new side effects.
A tool that answers "accepted, still running" (a Logic App's 202 + Location)
hands the orchestrator a PendingCall; it polls with `run_tool_poll` on durable
timers, so no activity sleeps while an operation runs elsewhere.
"""

from __future__ import annotations

import copy
import time

import azure.durable_functions as df

from activities import code_interpreter
from core import run_machine
from core.chat_turns import model_output
from core.repositories.runs import StoredStep
from core.repositories.shared import runs
from core.run_bookkeeping import Produced, StepBookkeeping
from core.run_events import payloads
from core.run_protocol import PendingCall, ToolCallRequest, ToolCallResult, ToolPollRequest, ToolPollResult
from tools import business, registry
from tools.registry import Pending, ToolError

bp = df.Blueprint()


def _call_in(step: dict, call_id: str) -> dict:
    return next(call for call in step["step_details"]["tool_calls"] if call["id"] == call_id)


@bp.activity_trigger(input_name="request")
def run_tool_call(request: dict) -> dict:
    """Execute one server-side call and store its output on the step."""
    ask = ToolCallRequest.of(request)
    run = runs().load(ask.principal, ask.thread_id, ask.run_id)
    if run.record["status"] != run_machine.IN_PROGRESS:
        return ToolCallResult(ask.call_id).wire()
    step = runs().load_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id)
    call = _call_in(step.record, ask.call_id)
    if model_output(call, step.books) is not None:
        return ToolCallResult(ask.call_id).wire()  # a repeated delivery of a call already run
    if call["type"] == "function":
        output = registry.invoke(call["function"]["name"], call["function"]["arguments"])
        if isinstance(output, Pending):  # started, not finished: the orchestrator polls on durable timers
            return ToolCallResult(ask.call_id, PendingCall(
                ask.call_id, output.location, output.retry_after_seconds, output.deadline_seconds).wire()).wire()
        _record_function_output(ask.principal, ask.thread_id, ask.run_id, ask.step_id, ask.call_id, output)
        return ToolCallResult(ask.call_id).wire()
    else:
        result = code_interpreter.execute(ask.principal, ask.thread_id, call["code_interpreter"]["input"],
                                          [item.model_dump() for item in run.books.code_files])

        def record(current: StoredStep):
            if ask.call_id in current.books.outputs:
                return current.record, current.books
            updated = copy.deepcopy(current.record)
            _call_in(updated, ask.call_id)["code_interpreter"]["outputs"] = result["outputs"]
            books = current.books.model_copy(update={
                "outputs": {**current.books.outputs, ask.call_id: result["model_output"]},
                "produced": [*current.books.produced, *(Produced(**item) for item in result["produced"])]})
            return _completed_if_answered(updated, books)

    runs().update_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id, record,
                       events=payloads.step_change_events)
    return ToolCallResult(ask.call_id).wire()


@bp.activity_trigger(input_name="request")
def run_tool_poll(request: dict) -> dict:
    """Poll a server call still at work once; record its output when it is done (or out of time)."""
    poll = ToolPollRequest.of(request)
    if runs().get(poll.principal, poll.thread_id, poll.run_id)["status"] != run_machine.IN_PROGRESS:
        return ToolPollResult(done=True).wire()  # cancelled meanwhile: stop following it
    if poll.give_up:
        decision = business.Failed("the operation was accepted but did not finish in time; its outcome is unknown")
    else:
        try:
            status, headers, body = business.poll_once(poll.location)
            decision = business.poll_decision(status, headers, body, polled=poll.location)
        except ToolError as error:
            decision = business.Failed(str(error))
    if isinstance(decision, Pending):
        return ToolPollResult(done=False, location=decision.location,
                              retry_after_seconds=decision.retry_after_seconds).wire()
    _record_function_output(poll.principal, poll.thread_id, poll.run_id, poll.step_id, poll.call_id,
                            business.outcome_text(decision))
    return ToolPollResult(done=True).wire()


def _record_function_output(principal: str, thread_id: str, run_id: str, step_id: str, call_id: str,
                            output: str) -> None:
    def record(current: StoredStep):
        updated = copy.deepcopy(current.record)
        stored_call = _call_in(updated, call_id)
        if stored_call["function"]["output"] is None:
            stored_call["function"]["output"] = output
        return _completed_if_answered(updated, current.books)

    runs().update_step(principal, thread_id, run_id, step_id, record, events=payloads.step_change_events)


def _completed_if_answered(step: dict, books: StepBookkeeping) -> tuple[dict, StepBookkeeping]:
    answered = {call["id"] for call in step["step_details"]["tool_calls"] if model_output(call, books) is not None}
    return run_machine.complete_step_if_answered(step, answered, int(time.time())), books
