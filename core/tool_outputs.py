"""Submitting tool outputs to a run that requires action: what the submission changes, decided without storage.

The HTTP use case (api/runs.py) loads the run, the step it waits on and its event log's head, then
hands this decision to `RunRepository.update`, whose callback only applies it.
"""

from __future__ import annotations

import copy
from typing import Sequence

from core import run_machine
from core.chat_turns import model_output
from core.errors import Conflict
from core.repositories.runs import RunChange, StoredRun, StoredStep


def accept_tool_outputs(current: StoredRun, step: StoredStep | None, submitted: Sequence[tuple[str, str]],
                        at: int) -> RunChange:
    """The run queued again with the `submitted` (tool call id, output) pairs on `step`, the step it
    waits on; the step completes once every call in it has its output. Refused (raises) when the run
    does not wait for exactly these calls; `step` None: it was not waiting when it was loaded."""
    moved = run_machine.transition(current.record, run_machine.SubmitToolOutputs(
        tuple(call_id for call_id, _ in submitted)), at)
    outputs = dict(submitted)
    step_id = current.books.action_step
    if step_id is None:  # transition() accepted the outputs, so the run requires action and names its step
        raise RuntimeError(f"run {current.record['id']} requires action but names no action step")
    if step is None or step.record["id"] != step_id:  # it moved on to another round since it was loaded
        raise Conflict(f"Run {current.record['id']} was modified concurrently; please retry.")
    answered = copy.deepcopy(step.record)
    for call in answered["step_details"]["tool_calls"]:
        if call["id"] in outputs:
            call["function"]["output"] = outputs[call["id"]]
    done = {call["id"] for call in answered["step_details"]["tool_calls"]
            if model_output(call, step.books) is not None}
    answered = run_machine.complete_step_if_answered(answered, done, at)
    # The step's completion (when every call has its output) and the run queued again are shown as derived
    # from the change (core.run_events.changes); a stream that continues the run never saw this step created,
    # so it gets no deltas of it.
    return RunChange(moved.run, replace_steps=[(step, answered, step.books)])
