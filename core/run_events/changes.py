"""The events a stored change of a run shows, derived from the change itself: pure functions, no I/O.

`RunRepository` (core.repositories.runs) appends what these return in the same transaction as the
change, so no call site builds the events of a status it stores by hand, and none can forget one:

- a new run's log opens with its thread (when made with it), `thread.run.created`, then its status;
- a change shows first the events of what is not stored as a record of its own (`given`: the pieces
  a streamed turn showed, a streamed message closed as it ended — core.run_events.turn), then each
  replaced step whose status moved (`thread.run.step.<status>`, in the order the change lists them),
  then the run's new status, last (`thread.run.<status>`), as OpenAI orders them.

A streamed turn's new steps and messages are shown by its stream, which alone knows what it showed
already (`TurnOutput.final_events`); a new step stored whole by anyone else (a response's replayed
tool calls) is history, not news, and shows nothing.
"""

from __future__ import annotations

from typing import Any, Sequence

from core.run_events import payloads
from core.run_events.payloads import Event


def run_opened(run: dict[str, Any], thread: dict[str, Any] | None = None) -> list[Event]:
    """What a new run's log starts with: `thread.created` (when `thread` was made with it), the run
    created, then its status (`thread.run.queued`)."""
    return [*([payloads.thread_created(thread)] if thread is not None else []), payloads.run_created(run),
            payloads.run_status(run)]


def step_moved(before: dict[str, Any], after: dict[str, Any]) -> list[Event]:
    """`thread.run.step.<status>` when a stored step's status changed, else nothing."""
    return [payloads.step_status(after)] if after["status"] != before["status"] else []


def change_events(before: dict[str, Any], after: dict[str, Any],
                  replaced_steps: Sequence[tuple[dict[str, Any], dict[str, Any]]] = (),
                  given: Sequence[Event] = ()) -> list[Event]:
    """What a change of the run `before` → `after` shows: the `given` events, then the status moves of
    the steps it replaces (each `(as read, as written)`), then the run's new status if it moved."""
    events = list(given)
    for read, written in replaced_steps:
        events += step_moved(read, written)
    if after["status"] != before["status"]:
        events.append(payloads.run_status(after))
    return events
