"""The activities that run one server-side tool call of a run step (code_interpreter, file_search or an
opted-in tool).

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

import copy
import time
from typing import Callable

import azure.durable_functions as df

from activities import code_interpreter, file_search
from core import run_machine
from core.chat_turns import model_output
from core.repositories.runs import StoredStep
from core.repositories.shared import runs
from core.file_search import in_runs
from core.run_bookkeeping import Produced, Source, StepBookkeeping
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
    if call["type"] == in_runs.TOOL_NAME:
        if file_search.helper_stores_ingesting(ask.principal, file_search.vector_store_ids(ask.principal, run.record)):
            return ToolCallResult(ask.call_id, PendingCall(  # searched once they are ready (run_tool_poll)
                ask.call_id, "", file_search.HELPER_POLL_SECONDS, file_search.HELPER_WAIT_SECONDS).wire()).wire()
        _record_search(ask, run.record, step.books.queries.get(ask.call_id, ""))
        return ToolCallResult(ask.call_id).wire()
    result = code_interpreter.execute(ask.principal, ask.thread_id, call["code_interpreter"]["input"],
                                      [item.model_dump() for item in run.books.code_files])
    record = _builtin_record(ask.call_id, lambda stored: stored["code_interpreter"].update(outputs=result["outputs"]),
                             result["model_output"], produced=[Produced(**item) for item in result["produced"]])
    try:
        runs().update_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id, record,
                           events=payloads.step_change_events)
    except BaseException:  # the files it made are referenced by nothing now: no orphans on a retry
        code_interpreter.discard(ask.principal, result["produced"])
        raise
    return ToolCallResult(ask.call_id).wire()


@bp.activity_trigger(input_name="request")
def run_tool_poll(request: dict) -> dict:
    """Poll a server call still at work once; record its output when it is done (or out of time)."""
    poll = ToolPollRequest.of(request)
    run = runs().get(poll.principal, poll.thread_id, poll.run_id)
    if run["status"] != run_machine.IN_PROGRESS:
        return ToolPollResult(done=True).wire()  # cancelled meanwhile: stop following it
    step = runs().load_step(poll.principal, poll.thread_id, poll.run_id, poll.step_id)
    if _call_in(step.record, poll.call_id)["type"] == in_runs.TOOL_NAME:  # waiting for stores to finish ingesting
        if not poll.give_up and file_search.helper_stores_ingesting(poll.principal,
                                                                    file_search.vector_store_ids(poll.principal, run)):
            return ToolPollResult(done=False, retry_after_seconds=file_search.HELPER_POLL_SECONDS).wire()
        _record_search(poll, run, step.books.queries.get(poll.call_id, ""))  # past the wait: what is there
        return ToolPollResult(done=True).wire()
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


def _record_search(ask: ToolCallRequest | ToolPollRequest, run: dict, query: str) -> None:
    result = file_search.execute(ask.principal, run, query)
    record = _builtin_record(ask.call_id, lambda stored: stored[in_runs.TOOL_NAME].update(results=result["results"]),
                             result["model_output"], sources=[Source(**item) for item in result["sources"]])
    runs().update_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id, record, events=payloads.step_change_events)


def _record_function_output(principal: str, thread_id: str, run_id: str, step_id: str, call_id: str,
                            output: str) -> None:
    def record(current: StoredStep):
        updated = copy.deepcopy(current.record)
        stored_call = _call_in(updated, call_id)
        if stored_call["function"]["output"] is None:
            stored_call["function"]["output"] = output
        return _completed_if_answered(updated, current.books)

    runs().update_step(principal, thread_id, run_id, step_id, record, events=payloads.step_change_events)


def _builtin_record(call_id: str, fill_call: Callable[[dict], None], model_text: str, **kept: list):
    """The step change recording a built-in tool's result: its public part (`fill_call` on the stored
    call), what the model reads back, and what the step's bookkeeping keeps (`kept`: produced files,
    sources); a result already recorded (a repeated delivery) is left as it is."""
    def record(current: StoredStep) -> tuple[dict, StepBookkeeping]:
        if call_id in current.books.outputs:
            return current.record, current.books
        updated = copy.deepcopy(current.record)
        fill_call(_call_in(updated, call_id))
        books = current.books.model_copy(update={
            "outputs": {**current.books.outputs, call_id: model_text},
            **{name: [*getattr(current.books, name), *items] for name, items in kept.items()}})
        return _completed_if_answered(updated, books)

    return record


def _completed_if_answered(step: dict, books: StepBookkeeping) -> tuple[dict, StepBookkeeping]:
    answered = {call["id"] for call in step["step_details"]["tool_calls"] if model_output(call, books) is not None}
    return run_machine.complete_step_if_answered(step, answered, int(time.time())), books
