"""The run orchestrator's policy, as plain functions: what to do after each thing a run waits for.

The orchestrator (orchestrators/runs.py) is a thin durable loop: it performs
what these functions decide and feeds back what happened. Status changes
themselves are core.run_machine's; this module decides *when* to ask for them —
retry a model fault on a timer, run server tools, wait for the client, or end the
run. Nothing here does I/O or reads a clock, so every path is tested exhaustively
and replays identically. A model turn reports a core.run_bookkeeping.TurnOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.run_machine import CANCELLED, COMPLETED, EXPIRED, FAILED, INCOMPLETE


@dataclass(frozen=True)
class FaultBudget:
    """How long model faults are retried before the run fails."""

    max_server_error_attempts: int = 4
    max_rate_limit_waits: int = 6
    backoff_first_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    rate_limit_default_wait_seconds: float = 5.0
    rate_limit_max_wait_seconds: float = 120.0
    # A run that keeps calling tools without answering is stopped, not looped forever.
    max_turns: int = 32


@dataclass(frozen=True)
class Finish:
    """End the run in a terminal status (written by the finish activity unless the model turn stored it)."""

    status: str  # a terminal status of core.run_machine
    last_error: dict[str, str] | None = None
    incomplete_reason: str | None = None
    # The model turn already stored the terminal status with the answer (nothing left to write).
    recorded: bool = False


@dataclass(frozen=True)
class Wait:
    """Sleep on a durable timer, then ask the model again for the same turn."""

    seconds: float


@dataclass(frozen=True)
class RunServerTools:
    """Run the step's server calls here, in parallel; then ask the client for its calls, or the model again."""

    step_id: str
    call_ids: tuple[str, ...]
    then_require_action: bool


@dataclass(frozen=True)
class RequireAction:
    """The step's calls are the client's: a run waits in requires_action, a response ends with them."""

    step_id: str


@dataclass(frozen=True)
class NextTurn:
    """Every call of the turn is already answered (calls to undeclared functions): ask the model again."""


Decision = Finish | Wait | RunServerTools | RequireAction | NextTurn


@dataclass
class TurnState:
    """What the loop remembers between turns: counts only, so replays are cheap."""

    turn: int = 0
    server_error_attempts: int = 0
    rate_limit_waits: int = 0
    action_rounds: int = 0

    def next_turn(self) -> None:
        self.turn += 1
        self.server_error_attempts = 0
        self.rate_limit_waits = 0


def after_model_turn(outcome: dict[str, Any], state: TurnState, budget: FaultBudget) -> Decision:
    """What to do once a model turn has reported its outcome."""
    kind = outcome["kind"]
    if kind == "message":
        return Finish(COMPLETED, recorded=True)
    if kind == "cancelled":
        return Finish(CANCELLED)
    if kind == "incomplete":
        return Finish(INCOMPLETE, incomplete_reason=outcome["reason"])
    if kind == "failed":
        return Finish(FAILED, last_error={"code": outcome.get("code") or "server_error",
                                            "message": outcome["message"]})
    if kind == "rate_limited":
        state.rate_limit_waits += 1
        if state.rate_limit_waits > budget.max_rate_limit_waits:
            return Finish(FAILED, last_error={
                "code": "rate_limit_exceeded",
                "message": f"The model kept answering 429 (rate limited) after {budget.max_rate_limit_waits} waits."})
        retry_after = outcome.get("retry_after")
        wait = budget.rate_limit_default_wait_seconds if retry_after is None else float(retry_after)
        return Wait(min(max(wait, 0.0), budget.rate_limit_max_wait_seconds))
    if kind == "server_error":
        state.server_error_attempts += 1
        if state.server_error_attempts >= budget.max_server_error_attempts:
            return Finish(FAILED, last_error={
                "code": "server_error",
                "message": f"The model failed {state.server_error_attempts} times: {outcome.get('message', '')}".strip()})
        return Wait(backoff_seconds(state.server_error_attempts, budget))
    if kind == "tool_calls":
        if state.turn + 1 >= budget.max_turns:
            return Finish(FAILED, last_error={
                "code": "server_error",
                "message": f"The run stopped after {budget.max_turns} model turns without a final answer."})
        server_calls = tuple(outcome.get("server_calls") or ())
        client_calls = tuple(outcome.get("client_calls") or ())
        if server_calls:
            return RunServerTools(outcome["step_id"], server_calls, then_require_action=bool(client_calls))
        if client_calls:
            return RequireAction(outcome["step_id"])
        return NextTurn()
    raise ValueError(f"unknown model turn outcome {kind!r}")


def after_engine_fault(error: BaseException | str) -> Finish:
    """An activity failed past its retries (a storage outage outlasting every retry, a bug): the run
    fails saying so. The host reports such a failure as "<reason> \\n <traceback>"; only the reason
    is the client's business."""
    reason = str(error).split(" \n ", 1)[0].strip().splitlines()
    detail = reason[0][:300] if reason else type(error).__name__
    return Finish(FAILED, last_error={"code": "server_error", "message": (
        "The run stopped: a step of its work kept failing after every retry (storage or the run engine was "
        f"unavailable). Last error: {detail}")})


def on_client_calls(hands_calls_back: bool) -> Finish | None:
    """The model called functions the client runs: a run waits for their outputs (None); a response
    ends `completed` with the calls as its output, and the client answers in its next response."""
    return Finish(COMPLETED) if hands_calls_back else None


def backoff_seconds(attempt: int, budget: FaultBudget) -> float:
    """Exponential backoff for server errors: 1 s, 2 s, 4 s … capped (deterministic: no jitter)."""
    return min(budget.backoff_first_seconds * (2 ** (attempt - 1)), budget.backoff_max_seconds)


def after_tool_outputs_wait(winner: str) -> Finish | None:
    """The run waited in requires_action: outputs arrived (None: carry on), it expired, or was cancelled."""
    if winner == "outputs":
        return None
    if winner == "expired":
        return Finish(EXPIRED)
    if winner == "cancelled":
        return Finish(CANCELLED)
    raise ValueError(f"unknown wait outcome {winner!r}")


# -- server tools that answered "accepted, still running" (202 + Location) -------------


@dataclass(frozen=True)
class Polling:
    """A server call still at work: where to poll, when next, and when to give up (unix seconds)."""

    call_id: str
    location: str
    next_at: float
    deadline_at: float


def start_polling(pending: dict[str, Any], now: float) -> Polling:
    """The first wait for a call whose tool returned a PendingCall (see core.run_protocol)."""
    return Polling(pending["call_id"], pending["location"], now + pending["retry_after_seconds"],
                   now + pending["deadline_seconds"])


def next_poll_at(polling: list[Polling]) -> float:
    """One timer for all calls still polling: the earliest that is due (or whose time ran out)."""
    return min(min(call.next_at, call.deadline_at) for call in polling)


def due(polling: list[Polling], now: float) -> list[Polling]:
    return [call for call in polling if min(call.next_at, call.deadline_at) <= now]


def after_poll(call: Polling, result: dict[str, Any], now: float) -> Polling | None:
    """The call's polling after one poll: finished (None), or its next poll."""
    if result["done"]:
        return None
    return Polling(call.call_id, result["location"] or call.location, now + result["retry_after_seconds"],
                   call.deadline_at)
