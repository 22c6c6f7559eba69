"""Which active runs the sweeper ends, and how: the decision, pure (the timer function does the I/O).

A run is moved forward only by its orchestration. When that orchestration is gone
(purged, a task hub reset) or has ended while the run still looks active, nothing
will ever move the run again, and its thread stays claimed. The sweeper ends such
runs honestly, and also any run well past its `expires_at`, so that "no run stays
active forever" holds even with no orchestration at all.
"""

from __future__ import annotations

from typing import Any

from core import run_machine
from core.run_ending import LOST_ORCHESTRATION

# Durable runtime statuses of an orchestration that will still act on its run.
LIVE_ORCHESTRATION = frozenset({"Pending", "Running", "ContinuedAsNew", "Suspended"})
PAST_EXPIRY = {"code": "server_error", "message": (
    "The run passed its expires_at without finishing, and nothing was moving it forward.")}
ENDED_ORCHESTRATION = {"code": "server_error", "message": (
    "The run's orchestration ended without storing the run's end (a fault, such as a storage outage, "
    "outlasted its retries), so nothing would move the run forward again. Start a new run.")}
NEVER_STARTED = {"code": "server_error", "message": (
    "The run's orchestration was never started (the request that created the run failed before starting "
    "it, and was not retried), so the run cannot continue. Start a new run.")}


def _why(run: dict[str, Any], orchestration: str | None) -> dict[str, Any]:
    """The last_error of a run failed by the sweeper: what became of its orchestration."""
    if orchestration in LIVE_ORCHESTRATION:
        return PAST_EXPIRY
    if orchestration is not None:  # Completed, Failed, Terminated: it ended and the run did not
        return ENDED_ORCHESTRATION
    if run["status"] == run_machine.QUEUED and run.get("started_at") is None:
        return NEVER_STARTED
    return LOST_ORCHESTRATION


def ending_for(run: dict[str, Any], orchestration: str | None, now: int,
               grace: int) -> tuple[str, dict[str, Any] | None] | None:
    """(terminal status, last_error) to end `run` with, or None to leave it to its orchestration.

    `orchestration` is the run's orchestration runtime status, None when there is none. A run younger
    than `grace` seconds is left alone: its orchestration may be starting this very moment."""
    status = run["status"]
    if status not in run_machine.ACTIVE_STATUSES or now - run["created_at"] < grace:
        return None
    expires_at = run.get("expires_at")
    overdue = expires_at is not None and now > expires_at + grace
    if orchestration in LIVE_ORCHESTRATION and not overdue:
        return None
    if status == run_machine.CANCELLING:
        return run_machine.CANCELLED, None
    if status == run_machine.REQUIRES_ACTION and expires_at is not None and now > expires_at:
        return run_machine.EXPIRED, None
    return run_machine.FAILED, _why(run, orchestration)


def forget_requests_before(now: int, retry_window: int) -> int:
    """The creation time before which a create_and_run's record for its retries (core.repositories.run_requests)
    has served its purpose: a retry made now would no longer be led to that request's run anyway."""
    return now - retry_window
