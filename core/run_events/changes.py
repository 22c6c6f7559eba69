"""The events a stored change of a run shows, derived from the change itself: pure functions, no I/O.

`RunRepository` (core.repositories.runs) appends what these return in the same transaction as the
change, so no call site builds the events of a status or record it stores by hand, and none can forget one:

- a new run's log opens with its thread (when made with it), `thread.run.created`, then its status;
- a change shows first the events of what is not stored as a record of its own (`given`: a streamed
  message closed as the run ended mid-answer — core.run_events.turn), then what a streamed turn's new
  steps and message show beyond what its stream showed (`turn_events`), then each replaced step whose
  status moved (`thread.run.step.<status>`, in the order the change lists them), then the run's new
  status, last (`thread.run.<status>`), as OpenAI orders them.

Only a turn's stream knows what it showed already (which openings, which pieces are still unwritten):
it says so with a `TurnShown`. A new step stored whole by anyone else (a response's replayed tool
calls) comes with none: it is history, not news, and shows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import takewhile
from typing import Any, Sequence

from core.run_events import payloads
from core.run_events.payloads import Event
from core.tool_plugins import Tools


def run_opened(run: dict[str, Any], thread: dict[str, Any] | None = None) -> list[Event]:
    """What a new run's log starts with: `thread.created` (when `thread` was made with it), the run
    created, then its status (`thread.run.queued`)."""
    return [*([payloads.thread_created(thread)] if thread is not None else []), payloads.run_created(run),
            payloads.run_status(run)]


def step_moved(before: dict[str, Any], after: dict[str, Any]) -> list[Event]:
    """`thread.run.step.<status>` when a stored step's status changed, else nothing."""
    return [payloads.step_status(after)] if after["status"] != before["status"] else []


@dataclass(frozen=True)
class TurnShown:
    """What a model turn's stream showed before the change storing its records (core.run_events.turn).

    `opened`: the ids of the steps and messages whose openings (created, in_progress) it showed — their
    pieces followed them. `unwritten`: its last pieces, handed over to be stored with the change.
    `tools`: the plug-ins, to show whole the calls of a tool step the stream never opened (only then needed)."""

    opened: frozenset[str] = frozenset()
    unwritten: tuple[Event, ...] = ()
    tools: Tools | None = None


def _message_opening(step: dict[str, Any], message: dict[str, Any] | None, opened: frozenset[str]) -> list[Event]:
    """The openings of a message step and its message not shown yet: as they were before any text,
    then the parts the message shows before its text (code_interpreter's figures)."""
    events = [] if step["id"] in opened else payloads.opening(dict(step, status="in_progress", completed_at=None))
    if message is None or message["id"] in opened:
        return events
    empty = dict(message, status="in_progress", content=[], completed_at=None, incomplete_at=None,
                 incomplete_details=None)
    leading = takewhile(lambda part: part["type"] != "text", message["content"])
    return events + [payloads.message_created(empty), payloads.message_in_progress(empty)] + [
        payloads.content_part_delta(message["id"], index, part) for index, part in enumerate(leading)]


def turn_events(turn: TurnShown, new_steps: Sequence[dict[str, Any]],
                new_messages: Sequence[dict[str, Any]]) -> list[Event]:
    """What a streamed turn's stored steps and message show beyond what its stream showed, in OpenAI's
    order: its unwritten pieces; then each new step as stored (the text's, then the calls'): the
    openings not shown yet; for a message step its message completed (or incomplete), then the step
    completed; for a tool step, when not opened, its calls whole as deltas (it stays in progress: its
    results and status come with later changes, its run's requires_action after them), and its status
    when it was stored ended."""
    messages = {message["id"]: message for message in new_messages}
    events = list(turn.unwritten)
    for step in new_steps:
        details = step["step_details"]
        if details["type"] == "message_creation":
            message = messages.get(details["message_creation"]["message_id"])
            events += _message_opening(step, message, turn.opened)
            events += ([payloads.message_done(message)] if message is not None else []) + [payloads.step_status(step)]
        else:
            if step["id"] not in turn.opened:
                if turn.tools is None:
                    raise ValueError(f"showing the calls of step {step['id']} whole needs the tools")
                empty = dict(step, step_details={"type": "tool_calls", "tool_calls": []})
                events += payloads.opening(empty) + turn.tools.call_deltas(step["id"], details["tool_calls"])
            if step["status"] != "in_progress":  # stored ended already (every call refused): no later change shows it
                events.append(payloads.step_status(step))
    return events


def change_events(before: dict[str, Any], after: dict[str, Any],
                  replaced_steps: Sequence[tuple[dict[str, Any], dict[str, Any]]] = (),
                  given: Sequence[Event] = (), *, new_steps: Sequence[dict[str, Any]] = (),
                  new_messages: Sequence[dict[str, Any]] = (), turn: TurnShown | None = None) -> list[Event]:
    """What a change of the run `before` → `after` shows: the `given` events, then what its new steps and
    messages show when a streamed `turn` stores them (`turn_events`; without one they show nothing), then
    the status moves of the steps it replaces (each `(as read, as written)`), then the run's new status."""
    events = list(given)
    if turn is not None:
        events += turn_events(turn, new_steps, new_messages)
    for read, written in replaced_steps:
        events += step_moved(read, written)
    if after["status"] != before["status"]:
        events.append(payloads.run_status(after))
    return events
