"""The activity that runs one server-side tool call of a run step (code_interpreter or an opted-in tool).

Parallel calls of one step run as parallel activities; each adds its output to
the step under the step's ETag, and the step completes when every call has one.
A call whose output is already stored (a repeated delivery) is not run again,
and a run no longer in progress (cancelled meanwhile) gets no new side effects.
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
from core.run_protocol import ToolCallRequest
from tools import registry

bp = df.Blueprint()


def _call_in(step: dict, call_id: str) -> dict:
    return next(call for call in step["step_details"]["tool_calls"] if call["id"] == call_id)


@bp.activity_trigger(input_name="request")
def run_tool_call(request: dict) -> dict:
    """Execute one server-side call and store its output on the step."""
    ask = ToolCallRequest.of(request)
    run = runs().load(ask.principal, ask.thread_id, ask.run_id)
    if run.record["status"] != run_machine.IN_PROGRESS:
        return {"call_id": ask.call_id}
    step = runs().load_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id)
    call = _call_in(step.record, ask.call_id)
    if model_output(call, step.books) is not None:
        return {"call_id": ask.call_id}  # a repeated delivery of a call already run
    if call["type"] == "function":
        output = registry.execute(call["function"]["name"], call["function"]["arguments"])

        def record(current: StoredStep):
            updated = copy.deepcopy(current.record)
            stored_call = _call_in(updated, ask.call_id)
            if stored_call["function"]["output"] is None:
                stored_call["function"]["output"] = output
            return _completed_if_answered(updated, current.books)
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

    runs().update_step(ask.principal, ask.thread_id, ask.run_id, ask.step_id, record)
    return {"call_id": ask.call_id}


def _completed_if_answered(step: dict, books: StepBookkeeping) -> tuple[dict, StepBookkeeping]:
    answered = {call["id"] for call in step["step_details"]["tool_calls"] if model_output(call, books) is not None}
    return run_machine.complete_step_if_answered(step, answered, int(time.time())), books
