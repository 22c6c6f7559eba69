"""The run's state machine: who may move a run (and its steps) to which status, in one place.

Every status change of a run is `transition(run, event, at)` → `Transition`: the
new record and what must happen with it (release the thread, close the open
steps, signal the orchestration). It is pure — no storage, no clock — so HTTP
handlers and activities alike read a run, call it, and persist what it returns,
and the rules are tested exhaustively in tests/core/test_run_machine.py.

    queued ──Start──▶ in_progress ──RequireAction──▶ requires_action ──SubmitToolOutputs──▶ queued
      │                   │                               │
      └─────Cancel────────┴───────────Cancel──────────────┴──▶ cancelling
    any active status ──Finish(completed|failed|incomplete|cancelled|expired)──▶ terminal

Only the orchestrator's activities send Start, RequireAction and Finish; HTTP
sends Cancel and SubmitToolOutputs (and Finish(failed) for a run whose
orchestration never started). `completed` and `incomplete` come only from
in_progress (the model answered); `expired` only from requires_action (the
client never answered) — a cancel requested meanwhile wins as `cancelled`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Final

from core.errors import InvalidRequest

# Final: each is its literal type, as core.wire.runs' RunStatus and StepStatus spell them.
QUEUED: Final = "queued"
IN_PROGRESS: Final = "in_progress"
REQUIRES_ACTION: Final = "requires_action"
CANCELLING: Final = "cancelling"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
INCOMPLETE: Final = "incomplete"
CANCELLED: Final = "cancelled"
EXPIRED: Final = "expired"

ACTIVE_STATUSES = frozenset({QUEUED, IN_PROGRESS, REQUIRES_ACTION, CANCELLING})
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, INCOMPLETE, CANCELLED, EXPIRED})
CANCELLABLE_STATUSES = frozenset({QUEUED, IN_PROGRESS, REQUIRES_ACTION})
RUN_STATUSES = (QUEUED, IN_PROGRESS, REQUIRES_ACTION, CANCELLING, CANCELLED, FAILED, COMPLETED, INCOMPLETE, EXPIRED)
STEP_STATUSES = (IN_PROGRESS, CANCELLED, FAILED, COMPLETED, EXPIRED)

# Where a status writes its timestamp, on a run or a step (incomplete has none; a run has no expired_at).
STATUS_TIMESTAMP = {COMPLETED: "completed_at", FAILED: "failed_at", CANCELLED: "cancelled_at", EXPIRED: "expired_at"}
# What an open step becomes when its run ends.
STEP_STATUS_AT_RUN_END = {COMPLETED: COMPLETED, INCOMPLETE: COMPLETED, FAILED: FAILED,
                          CANCELLED: CANCELLED, EXPIRED: EXPIRED}
ZERO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}

CANCEL_EVENT = "cancel"


def tool_outputs_event(round_number: int) -> str:
    """Each requires_action round waits for its own event name, so a late or repeated submission
    can never satisfy a later round."""
    return f"tool_outputs_{round_number}"


class TransitionRefused(InvalidRequest):
    """The run's status does not allow this change (a 400 `invalid_state` when HTTP asked for it)."""

    def __init__(self, message: str):
        super().__init__(message, code="invalid_state")


# -- events -----------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """The orchestrator takes the run up: its first model turn, or again after tool outputs."""


@dataclass(frozen=True)
class RequireAction:
    """The model called functions only the client can answer."""

    round: int
    tool_calls: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class SubmitToolOutputs:
    """The client answered every pending call (ids as submitted, in order)."""

    tool_call_ids: tuple[str, ...]


@dataclass(frozen=True)
class Cancel:
    """The client asked to cancel."""


@dataclass(frozen=True)
class Finish:
    """The run ends in `status`; `usage` is the run's total so far."""

    status: str
    last_error: dict[str, Any] | None = None
    incomplete_reason: str | None = None
    usage: dict[str, Any] | None = None


Event = Start | RequireAction | SubmitToolOutputs | Cancel | Finish


# -- what a transition produces ----------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """What `transition` decided: the run's new record and what its caller must do with it when persisting it."""

    run: dict[str, Any]
    changed: bool
    release_thread: bool = False
    close_open_steps_as: str | None = None  # a step status, when the run just ended
    signal: str | None = None  # an external event name to raise on the run's orchestration
    signal_data: dict[str, Any] = field(default_factory=dict)


def transition(run: dict[str, Any], event: Event, at: int) -> Transition:
    """The run after `event` at unix time `at`; raises TransitionRefused when its status forbids it."""
    status = run["status"]
    if isinstance(event, Start):
        if status == IN_PROGRESS:
            return Transition(run, changed=False)  # a retried activity already started it
        _require(status in (QUEUED,), f"Run {run['id']} cannot start from status '{status}'.")
        return _changed(run, status=IN_PROGRESS, started_at=run.get("started_at") or at)
    if isinstance(event, RequireAction):
        if status == REQUIRES_ACTION and _pending_ids(run) == tuple(call["id"] for call in event.tool_calls):
            return Transition(run, changed=False)
        _require(status == IN_PROGRESS, f"Run {run['id']} cannot require action from status '{status}'.")
        return _changed(run, status=REQUIRES_ACTION, required_action={
            "type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": list(event.tool_calls)}})
    if isinstance(event, SubmitToolOutputs):
        _require(status == REQUIRES_ACTION, f"Runs in status \"{status}\" do not accept tool outputs.")
        _check_outputs_answer(_pending_ids(run), event.tool_call_ids)
        return _changed(run, status=QUEUED, required_action=None)
    if isinstance(event, Cancel):
        _require(status in CANCELLABLE_STATUSES, f"Cannot cancel run with status '{status}'.")
        moved = _changed(run, status=CANCELLING)
        return Transition(moved.run, changed=True, signal=CANCEL_EVENT, signal_data={"requested_at": at})
    if isinstance(event, Finish):
        return _finish(run, event, at)
    raise TypeError(f"not a run event: {event!r}")


def _finish(run: dict[str, Any], event: Finish, at: int) -> Transition:
    status, target = run["status"], event.status
    if status in TERMINAL_STATUSES:  # finishing twice (a retried activity) only makes sure the thread is free
        return Transition(run, changed=False, release_thread=True)
    if target not in TERMINAL_STATUSES:
        raise ValueError(f"{target!r} is not a terminal status")
    if target in (COMPLETED, INCOMPLETE):
        _require(status == IN_PROGRESS, f"Run {run['id']} cannot become {target} from status '{status}'.")
    if target == EXPIRED and status == CANCELLING:
        target = CANCELLED  # the client asked to cancel before the deadline passed
    elif target == EXPIRED:
        _require(status == REQUIRES_ACTION, f"Run {run['id']} cannot expire from status '{status}'.")
    ended = copy.deepcopy(run)
    ended.update(status=target, required_action=None, usage=event.usage or dict(ZERO_USAGE))
    if target != EXPIRED:
        ended["expires_at"] = None  # as at OpenAI: only a live or expired run shows its deadline
    if target in STATUS_TIMESTAMP and target != EXPIRED:
        ended[STATUS_TIMESTAMP[target]] = at
    if target == INCOMPLETE:
        ended["incomplete_details"] = {"reason": event.incomplete_reason or "max_completion_tokens"}
    if target == FAILED:
        ended["last_error"] = event.last_error or {"code": "server_error", "message": "The run failed."}
    return Transition(ended, changed=True, release_thread=True, close_open_steps_as=STEP_STATUS_AT_RUN_END[target])


def _changed(run: dict[str, Any], **fields: Any) -> Transition:
    updated = copy.deepcopy(run)
    updated.update(fields)
    return Transition(updated, changed=True)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TransitionRefused(message)


def _pending_ids(run: dict[str, Any]) -> tuple[str, ...]:
    action = run.get("required_action") or {}
    return tuple(call["id"] for call in (action.get("submit_tool_outputs") or {}).get("tool_calls") or [])


def _check_outputs_answer(expected: tuple[str, ...], given: tuple[str, ...]) -> None:
    """Outputs must answer each pending call exactly once (OpenAI's rule), naming what is wrong."""
    if len(set(given)) != len(given):
        raise InvalidRequest("Each tool call may be answered only once.", param="tool_outputs")
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise InvalidRequest(f"Tool call {unknown[0]} is not awaiting an output.", param="tool_outputs")
    missing = sorted(set(expected) - set(given))
    if missing:
        raise InvalidRequest(f"Expected tool outputs for call_ids {sorted(expected)}, got {sorted(given)}; "
                             f"missing {missing}.", param="tool_outputs")


# -- steps ---------------------------------------------------------------------------


def close_step(step: dict[str, Any], status: str, at: int) -> dict[str, Any]:
    """An open step closed because its run ended (`status` from STEP_STATUS_AT_RUN_END)."""
    if step["status"] != IN_PROGRESS:
        return step
    closed = copy.deepcopy(step)
    closed["status"] = status
    closed[STATUS_TIMESTAMP[status]] = at
    return closed


def complete_step_if_answered(step: dict[str, Any], answered: set[str], at: int) -> dict[str, Any]:
    """A tool-calls step completes once every call in it has its output (`answered` call ids).

    A step the run's end already closed (cancelled, expired) keeps its status: a tool that returns
    late records what it did, but does not reopen or complete the step."""
    calls = step["step_details"].get("tool_calls") or []
    if step["status"] != IN_PROGRESS or any(call["id"] not in answered for call in calls):
        return step
    done = copy.deepcopy(step)
    done["status"] = COMPLETED
    done["completed_at"] = done.get("completed_at") or at
    return done
