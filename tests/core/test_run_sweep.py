"""The sweeper's decision (core/run_sweep.py), for every run status and orchestration state."""

from __future__ import annotations

import pytest

from core import run_machine as rm
from core.run_ending import LOST_ORCHESTRATION
from core.run_sweep import ENDED_ORCHESTRATION, LIVE_ORCHESTRATION, NEVER_STARTED, PAST_EXPIRY, ending_for

NOW, GRACE = 10_000, 60
OLD, EXPIRES = NOW - 300, NOW + 300  # created five minutes ago, expiring in five


def run(status: str, created_at: int = OLD, expires_at: int | None = EXPIRES, started_at: int | None = OLD) -> dict:
    return {"id": "run_1", "status": status, "created_at": created_at, "expires_at": expires_at,
            "started_at": started_at}


@pytest.mark.parametrize("status", sorted(rm.TERMINAL_STATUSES))
@pytest.mark.parametrize("orchestration", [None, "Running", "Completed"])
def test_ended_runs_are_left_alone(status, orchestration):
    assert ending_for(run(status, expires_at=None), orchestration, NOW, GRACE) is None


@pytest.mark.parametrize("status", sorted(rm.ACTIVE_STATUSES))
@pytest.mark.parametrize("orchestration", sorted(LIVE_ORCHESTRATION))
def test_a_live_orchestration_keeps_its_run(status, orchestration):
    assert ending_for(run(status), orchestration, NOW, GRACE) is None


@pytest.mark.parametrize("status", sorted(rm.ACTIVE_STATUSES))
@pytest.mark.parametrize("orchestration", [None, "Completed", "Failed", "Terminated"])
def test_a_young_run_is_left_to_its_starting_orchestration(status, orchestration):
    assert ending_for(run(status, created_at=NOW - GRACE + 1), orchestration, NOW, GRACE) is None


@pytest.mark.parametrize("status, expected", [
    (rm.QUEUED, rm.FAILED), (rm.IN_PROGRESS, rm.FAILED),
    (rm.REQUIRES_ACTION, rm.FAILED),  # before its expires_at: failed, not expired
])
@pytest.mark.parametrize("orchestration, why", [
    (None, LOST_ORCHESTRATION),  # purged, a task hub reset
    ("Completed", ENDED_ORCHESTRATION), ("Failed", ENDED_ORCHESTRATION), ("Terminated", ENDED_ORCHESTRATION),
])
def test_a_run_without_a_live_orchestration_is_failed_saying_what_became_of_it(status, expected, orchestration, why):
    assert ending_for(run(status), orchestration, NOW, GRACE) == (expected, why)


@pytest.mark.parametrize("orchestration", [None, "Completed", "Failed", "Terminated"])
def test_a_cancelling_run_without_a_live_orchestration_is_cancelled(orchestration):
    assert ending_for(run(rm.CANCELLING), orchestration, NOW, GRACE) == (rm.CANCELLED, None)


def test_a_queued_run_never_started_and_without_orchestration_says_it_never_started():
    assert ending_for(run(rm.QUEUED, started_at=None), None, NOW, GRACE) == (rm.FAILED, NEVER_STARTED)
    # queued again after tool outputs (it had started): its orchestration was lost, not never started
    assert ending_for(run(rm.QUEUED), None, NOW, GRACE) == (rm.FAILED, LOST_ORCHESTRATION)
    assert ending_for(run(rm.QUEUED, started_at=None), "Failed", NOW, GRACE) == (rm.FAILED, ENDED_ORCHESTRATION)


@pytest.mark.parametrize("orchestration", [None, "Terminated"])
def test_waiting_for_outputs_past_expires_at_without_orchestration_is_expired(orchestration):
    assert ending_for(run(rm.REQUIRES_ACTION, expires_at=NOW - 1), orchestration, NOW, GRACE) == (rm.EXPIRED, None)


@pytest.mark.parametrize("status, expected", [
    (rm.REQUIRES_ACTION, (rm.EXPIRED, None)), (rm.CANCELLING, (rm.CANCELLED, None)),
    (rm.QUEUED, (rm.FAILED, PAST_EXPIRY)), (rm.IN_PROGRESS, (rm.FAILED, PAST_EXPIRY)),
])
def test_even_a_live_orchestration_loses_a_run_long_past_expires_at(status, expected):
    overdue = run(status, expires_at=NOW - GRACE - 1)
    assert ending_for(overdue, "Running", NOW, GRACE) == expected
    assert ending_for(run(status, expires_at=NOW - GRACE + 1), "Running", NOW, GRACE) is None  # still in grace
