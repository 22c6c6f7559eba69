"""What the run orchestrator and its activities say to each other: names and typed payloads.

Durable Functions passes plain JSON between functions, so each payload is a
small dataclass sent as a dict (`.wire()`) and rebuilt on arrival (`.of(dict)`).
Payloads carry ids and small results, never conversations, so a run's durable
history stays the same size however long its thread grows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, TypeVar

ORCHESTRATOR = "run_orchestrator"
MODEL_TURN = "run_model_turn"
TOOL_CALL = "run_tool_call"
TOOL_POLL = "run_tool_poll"
REQUIRE_ACTION = "run_require_action"
RESUME = "run_resume"
FINISH = "run_finish"

P = TypeVar("P", bound="Payload")


class Payload:
    # Every payload is a dataclass: declared so that asdict() and fields() accept it.
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def wire(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls: type[P], data: dict[str, Any]) -> P:
        names = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


@dataclass(frozen=True)
class RunRef(Payload):
    """The orchestration's input: whose run, in which thread. A response's run (the Responses API)
    hands the client's function calls back by ending, instead of waiting in requires_action."""

    principal: str
    thread_id: str
    run_id: str
    hands_calls_back: bool = False


@dataclass(frozen=True)
class TurnRequest(Payload):
    """Ask for one model turn of a run; its number keys the turn's stored outcome, so a retry replays it."""

    principal: str
    thread_id: str
    run_id: str
    turn: int


@dataclass(frozen=True)
class ToolCallRequest(Payload):
    """Run one server-side call of a run's step here (one activity per call, in parallel)."""

    principal: str
    thread_id: str
    run_id: str
    step_id: str
    call_id: str


@dataclass(frozen=True)
class PendingCall(Payload):
    """A server call that cannot finish yet: a tool that started something asynchronous (202 + Location:
    poll `location`, which may carry a signature, so it stays in durable history, never in a step or an
    event), or a search whose stores are still ingesting (no location)."""

    call_id: str
    location: str
    retry_after_seconds: float
    deadline_seconds: float


@dataclass(frozen=True)
class ToolCallResult(Payload):
    """How a server call's activity ended: its output is on the step, or the call is still at work and is polled."""

    call_id: str
    pending: dict[str, Any] | None = None  # a PendingCall, when the tool is still at work


@dataclass(frozen=True)
class ToolPollRequest(Payload):
    """Poll once a server call still at work, where it last said to look."""

    principal: str
    thread_id: str
    run_id: str
    step_id: str
    call_id: str
    location: str
    give_up: bool  # past the deadline: record that the tool did not finish in time


@dataclass(frozen=True)
class ToolPollResult(Payload):
    """What one poll found: the call is over (its output stored, or the run left in_progress), or when to poll next."""

    done: bool
    location: str | None = None  # where to poll next, while not done
    retry_after_seconds: float | None = None


@dataclass(frozen=True)
class RequireActionRequest(Payload):
    """Ask the client for the step's calls it runs, in a round whose own event awaits its outputs."""

    principal: str
    thread_id: str
    run_id: str
    step_id: str
    client_calls: list[str]
    round: int


@dataclass(frozen=True)
class RequireActionResult(Payload):
    """Whether the run now waits for the client, and until when (the orchestrator's expiry timer)."""

    asked: bool  # False: the run was no longer in progress (cancelled meanwhile)
    expires_at: int | None = None


@dataclass(frozen=True)
class FinishRequest(Payload):
    """End a run in the terminal status the orchestrator decided, when no model turn stored it already."""

    principal: str
    thread_id: str
    run_id: str
    status: str
    last_error: dict[str, Any] | None = None
    incomplete_reason: str | None = None


def ref_fields(ref: RunRef) -> dict[str, Any]:
    return {"principal": ref.principal, "thread_id": ref.thread_id, "run_id": ref.run_id}
