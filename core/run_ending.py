"""Ending a run: its terminal status, its open steps closed, its thread released, its stream closed.

One place for it, because three callers end runs: the orchestrator (through the
`run_finish` activity), HTTP when it finds a run's orchestration gone, and the
run sweeper, which finalizes runs no orchestration will ever move again.
"""

from __future__ import annotations

import time
from typing import Any, cast

from core import run_machine
from core.errors import ApiError
from core.repositories.runs import RunChange, StoredRun
from core.repositories.shared import runs
from core.run_bookkeeping import Usage
from core.run_events import payloads
from core.run_events.turn import unfinished_message_events
from core.run_protocol import FinishRequest

LOST_ORCHESTRATION = {"code": "server_error", "message": (
    "The run's orchestration no longer exists (it was purged or its task hub was reset), so the run "
    "cannot continue. Start a new run.")}


def _unfinished_message(finish: FinishRequest) -> list[payloads.Event]:
    """Events closing a message the last turn streamed but never stored (the run ends mid-answer).
    Taken before the finishing write: closing it fences out a turn still streaming (core.run_events)."""
    run = runs().get(finish.principal, finish.thread_id, finish.run_id)
    if run["status"] in run_machine.TERMINAL_STATUSES:
        return []

    def stored(message_id: str) -> bool:
        try:
            runs().messages.get(finish.principal, finish.thread_id, message_id)
        except ApiError:
            return False
        return True

    return unfinished_message_events(runs().events, run, stored, finish.status,
                                     run_machine.STEP_STATUS_AT_RUN_END[finish.status])


def end_run(finish: FinishRequest) -> str | None:
    """Put the run in `finish.status`; returns the status it has afterwards, None if it is gone
    (its thread deleted meanwhile) or can no longer end so."""
    try:
        unfinished = _unfinished_message(finish)
    except ApiError:
        return None

    def change(current: StoredRun) -> RunChange:
        at = int(time.time())
        usage = (current.books.usage or Usage()).model_dump()
        moved = run_machine.transition(current.record, run_machine.Finish(
            finish.status, finish.last_error, finish.incomplete_reason, usage), at)
        closing = []
        if moved.close_open_steps_as:
            closing = [(step, run_machine.close_step(step.record, moved.close_open_steps_as, at), step.books)
                       for step in runs().all_steps(finish.thread_id, finish.run_id)
                       if step.record["status"] == run_machine.IN_PROGRESS]
        # The closed steps' and the run's new statuses are derived from the change (core.run_events.changes);
        # only the message streamed but never stored is closed by hand, and only when the run really ends now.
        return RunChange(moved.run, replace_steps=closing, release_thread=moved.release_thread,
                         events=unfinished if moved.changed else [])

    try:
        return cast(str, runs().update(finish.principal, finish.thread_id, finish.run_id, change).record["status"])
    except ApiError:
        return None


def end_orphaned_run(principal: str, thread_id: str, run_id: str, status: str) -> dict[str, Any] | None:
    """End a run whose orchestration is gone: `cancelled`/`expired` as asked, else `failed` saying why.
    Returns the run as it is afterwards (None when it is gone)."""
    last_error = LOST_ORCHESTRATION if status == run_machine.FAILED else None
    end_run(FinishRequest(principal=principal, thread_id=thread_id, run_id=run_id, status=status,
                          last_error=last_error))
    try:
        return runs().get(principal, thread_id, run_id)
    except ApiError:
        return None
